// Connection — one accepted client: frames request lines, routes them, and writes response lines.
//
// Two tasks per connection (in a task group, so neither outlives the connection):
//
//   reader: inbound bytes → LineFramer → Envelope.parse → Router. Handlers submit work and return at
//           once, so the next line is read while earlier requests still run (many in flight).
//   writer: drains `lines`, an AsyncStream fed by every request's ResponseSink from whatever thread
//           the answer was produced on (engine compute thread, tokenizer pool, event loop), encodes
//           each line's JSON (here, so the producer — above all the compute thread — only hands over
//           values) and writes it through NIOAsyncChannel's outbound writer (which does the
//           event-loop hop). Lines of one request keep their order because one producer thread
//           yields them in order.
//
// Ending:
//   * client half-closes (EOF on read): remaining requests are answered, then the connection closes
//     (`allowRemoteHalfClosure`; PROTOCOL.md: a last line before the client shuts its write side is
//     still processed).
//   * a write fails (client gone, e.g. killed mid-stream): the engine cancels the connection's jobs
//     (`cancelAll(connection:)`) and the connection closes.
//   * a read error (reset): same as a failed write.
//   * daemon shutdown: `closeWhenIdle()` once the engine drained, or `closeNow()` at the deadline.
//   A client that disappears while only non-streaming requests run is noticed when their answer is
//   written (end of that request), since EOF alone does not tell a half-close from a close.
//
// Backpressure: NIO's outbound writer suspends while the socket is not writable, so answers to a
// client that does not read pile up in `lines`. Once more than `maxBacklogLines` lines wait there (or
// more than `maxBacklogBytes` of encoded ones wait for the socket), the reader
// suspends (a continuation the writer resumes when the backlog falls below the limit, or the connection
// finishes) instead of reading new requests; the kernel buffers fill and the client's writes block.
// Memory per connection is thus bounded by what is already in flight.

import GPT2Systemd
import GPT2Wire
import Logging
import NIOCore

final class Connection: ConnectionOutput, @unchecked Sendable {
    let number: UInt64
    let identity: ClientIdentity
    private let server: ServerState
    private let maxLineBytes: Int
    private let lines: AsyncStream<OutgoingLine>
    private let continuation: AsyncStream<OutgoingLine>.Continuation

    private struct State {
        var inFlight = 0
        var inputClosed = false
        var closing = false
        var finished = false
        /// Lines queued in `lines` and not yet written.
        var backlogLines = 0
        /// Bytes of the encoded line being written.
        var backlogBytes = 0
        /// The reader, suspended while the backlog is over the limit.
        var readerWaiting: CheckedContinuation<Void, Never>?

        var overBacklogLimit: Bool { backlogLines > Connection.maxBacklogLines || backlogBytes > Connection.maxBacklogBytes }
    }
    /// Stop reading requests while more than this many response lines wait to be written…
    static let maxBacklogLines = 1 << 16
    /// … or while an encoded line this large waits for the socket.
    static let maxBacklogBytes = 16 << 20
    private let state = Locked(State())

    init(number: UInt64, credentials: PeerCredentials, server: ServerState) {
        self.number = number
        self.identity = ClientIdentity(uid: credentials.uid, pid: credentials.pid, connection: number)
        self.server = server
        self.maxLineBytes = server.maxLineBytes
        (lines, continuation) = AsyncStream.makeStream(of: OutgoingLine.self, bufferingPolicy: .unbounded)
    }

    // MARK: ConnectionOutput

    func send(_ line: OutgoingLine, final: Bool, isError: Bool) {
        if isError { server.countError() }
        state.withLock { $0.backlogLines += 1 }
        continuation.yield(line)
        guard final else { return }
        // Yielded before the count drops: a finish() this enables cannot overtake the line.
        finishLines { s in
            s.inFlight -= 1
            return (s.inputClosed || s.closing) && s.inFlight == 0
        }
    }

    /// Finishes `lines` (the writer writes what is queued, then the channel closes) if `update`, which
    /// may change the state, returns true. At most once.
    private func finishLines(if update: (inout State) -> Bool) {
        let (finishNow, reader) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
            guard update(&s), !s.finished else { return (false, nil) }
            s.finished = true
            defer { s.readerWaiting = nil }
            return (true, s.readerWaiting)
        }
        if finishNow { continuation.finish() }
        reader?.resume()
    }

    /// Counts a request as in flight and returns its sink; nil when the connection is closing.
    private func beginRequest(id: RequestID?) -> ResponseSink? {
        let accepted = state.withLock { s -> Bool in
            guard !s.closing, !s.finished else { return false }
            s.inFlight += 1
            return true
        }
        return accepted ? ResponseSink(id: id, connection: self) : nil
    }

    /// Closes as soon as no request is in flight; new lines are ignored from now on.
    func closeWhenIdle() {
        finishLines { s in
            s.closing = true
            return s.inFlight == 0
        }
    }

    /// Closes now; answers still to come are dropped.
    func closeNow() {
        finishLines { s in
            s.closing = true
            return true
        }
    }

    private func inputDidClose() {
        finishLines { s in
            s.inputClosed = true
            return s.inFlight == 0
        }
    }

    /// The peer is gone: stop its jobs and close.
    private func peerGone() {
        server.engine.cancelAll(connection: number)
        closeNow()
    }

    // MARK: running

    private enum Role { case reader, writer }

    /// Serves the connection until it closes. Never throws: failures end only this connection.
    func run(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Role.self) { group in
                    group.addTask {
                        await self.write(to: outbound)
                        return .writer
                    }
                    group.addTask {
                        await self.read(from: inbound)
                        return .reader
                    }
                    // The writer ends last by design (the stream finishes only when nothing is in flight,
                    // or on close); once it is done the reader has nothing left to do.
                    while let role = await group.next() {
                        if role == .writer { group.cancelAll() }
                    }
                }
            }
        } catch {
            server.logger.debug("connection closed with error", metadata: ["connection": "\(number)", "error": "\(error)"])
        }
        // Whatever ended the connection, its jobs must not keep running.
        server.engine.cancelAll(connection: number)
    }

    private func read(from inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async {
        var framer = LineFramer(maxLineBytes: maxLineBytes)
        do {
            for try await buffer in inbound {
                for event in framer.push(buffer.readableBytesView) { handle(event, framer: framer) }
                await waitForBacklogToDrain()
                if Task.isCancelled { return }
            }
            for event in framer.finish() { handle(event, framer: framer) }
            inputDidClose()
        } catch {
            if Task.isCancelled { return }
            server.logger.debug("read failed", metadata: ["connection": "\(number)", "error": "\(error)"])
            peerGone()
        }
    }

    /// Returns at once unless the backlog is over its limit; then when the writer has
    /// brought the backlog under the limit or the connection finished.
    private func waitForBacklogToDrain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { s -> Bool in
                guard s.overBacklogLimit && !s.finished else { return false }
                s.readerWaiting = c
                return true
            }
            if !wait { c.resume() }
        }
    }

    private func write(to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
        defer {
            // Whatever ended the writer, a reader suspended on the backlog must not wait forever.
            state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.readerWaiting = nil }
                return s.readerWaiting
            }?.resume()
        }
        do {
            for await line in lines {
                let bytes = line.encode()
                state.withLock { $0.backlogBytes = bytes.count }
                try await outbound.write(ByteBuffer(bytes: bytes))
                let reader = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.backlogLines -= 1
                    s.backlogBytes = 0
                    guard !s.overBacklogLimit else { return nil }
                    defer { s.readerWaiting = nil }
                    return s.readerWaiting
                }
                reader?.resume()
            }
        } catch {
            server.logger.debug("write failed; cancelling the connection's requests",
                                metadata: ["connection": "\(number)", "error": "\(error)"])
            peerGone()
        }
    }

    private func handle(_ event: LineFramer.Event, framer: LineFramer) {
        server.countRequest()
        switch event {
        case .tooLong:
            beginRequest(id: nil)?.error(framer.tooLongError)
        case .line(let bytes):
            let envelope: Envelope
            do {
                envelope = try Envelope.parse(bytes)
            } catch {
                beginRequest(id: error.id)?.error(error.error)
                return
            }
            guard let sink = beginRequest(id: envelope.id) else { return }
            server.router.route(IncomingRequest(envelope: envelope, client: identity, sink: sink, server: server))
        }
    }
}
