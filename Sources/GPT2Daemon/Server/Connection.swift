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
// Idle timeout (`connection_idle_timeout_s`, ConnectionPolicy): a third task closes the connection,
// with an info log line, once no request is in flight and nothing was read from it or written to it
// for that long (a client that stopped reading its replies counts as idle too: its writes do not
// complete). The channel itself is closed, so a writer stuck on an unread reply ends as well.
//
// Backpressure and reply memory: NIO's outbound writer suspends while the socket is not writable,
// so answers to a client that does not read pile up in `lines`. The connection's reply budget
// (`max_connection_reply_mib`) holds the line size of every request whose final line is not written
// yet — it is being computed, or its answer waits in `lines` — plus the encoded line being written.
// While that is over the budget (or more than `maxBacklogLines` lines wait), the reader suspends (a
// continuation the writer resumes when it writes enough, or the connection finishes) instead of
// reading new requests; the kernel buffers fill and the client's writes block. ServerState adds the
// budgets of all connections up (`max_reply_mib`): over that total, a connection that holds reply
// bytes of its own is not read until the total falls, while one with nothing pending may still
// send a request (so clients that never read cannot lock the others out). A request's own
// answer is proportional to its line (tokenize, task ops) or bounded by n_positions (generate,
// score), so memory per connection is bounded by the budget times that factor.

import Dispatch
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
        /// Line sizes of the requests whose final line is not written yet (unanswered, or answered
        /// and waiting in `lines`): what the connection's reply budget holds besides `backlogBytes`.
        var pendingRequestBytes = 0
        /// The reply budget (ConnectionPolicy.connectionReplyBytes).
        let replyLimit: Int
        /// The reader, suspended while the backlog is over the limit.
        var readerWaiting: CheckedContinuation<Void, Never>?
        /// When bytes were last read from or written to the client (monotonic nanoseconds).
        var lastActivity = DispatchTime.now().uptimeNanoseconds

        /// Bytes held against the reply budget.
        var replyBytes: Int { backlogBytes + pendingRequestBytes }
        var overBacklogLimit: Bool { backlogLines > Connection.maxBacklogLines || replyBytes > replyLimit }
    }
    /// Stop reading requests while more than this many response lines wait to be written (or while
    /// the reply budget is exceeded).
    static let maxBacklogLines = 1 << 16
    private let state: Locked<State>
    /// Limits taken from the server when the connection was accepted.
    private let policy: ConnectionPolicy

    init(number: UInt64, credentials: PeerCredentials, server: ServerState) {
        self.number = number
        self.identity = ClientIdentity(uid: credentials.uid, pid: credentials.pid, connection: number)
        self.server = server
        self.maxLineBytes = server.maxLineBytes
        self.policy = server.policy
        self.state = Locked(State(replyLimit: policy.connectionReplyBytes))
        (lines, continuation) = AsyncStream.makeStream(of: OutgoingLine.self, bufferingPolicy: .unbounded)
    }

    // MARK: ConnectionOutput

    func send(_ line: OutgoingLine, final: Bool, isError: Bool) {
        if isError { server.countError(identity.principal) }
        state.withLock { $0.backlogLines += 1 }
        continuation.yield(line)
        guard final else { return }
        // Yielded before the count drops: a finish() this enables cannot overtake the line.
        finishLines { s in
            s.inFlight -= 1
            if s.inFlight == 0 { s.lastActivity = DispatchTime.now().uptimeNanoseconds }
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
    /// `op`: the request's `op` label in the metrics (RequestMetrics: a v1 op, `other` or `invalid`).
    private func beginRequest(id: RequestID?, bytes: Int = 0, op: String = "invalid") -> ResponseSink? {
        let accepted = state.withLock { s -> Bool in
            guard !s.closing, !s.finished else { return false }
            s.inFlight += 1
            s.pendingRequestBytes += bytes
            return true
        }
        guard accepted else { return nil }
        server.addReplyBytes(bytes)
        let requests = server.metrics.requests
        return ResponseSink(id: id, connection: self, requestBytes: bytes, onFinal: { code in
            requests.record(.jsonLines, op: op, outcome: RequestMetrics.outcome(code))
        })
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

    private enum Role { case reader, writer, idleWatch }

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
                    if self.policy.idleTimeoutSeconds > 0 {
                        group.addTask {
                            await self.closeWhenIdleTooLong(channel.channel)
                            return .idleWatch
                        }
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
        // Whatever ended the connection, its jobs must not keep running, and its reply budget
        // (lines never written) is given back.
        server.engine.cancelAll(connection: number)
        let held = state.withLock { s -> Int in
            defer { s.pendingRequestBytes = 0; s.backlogBytes = 0 }
            return s.replyBytes
        }
        server.addReplyBytes(-held)
    }

    private func read(from inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async {
        var framer = LineFramer(maxLineBytes: maxLineBytes)
        do {
            for try await buffer in inbound {
                noteActivity()
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
    /// brought the backlog under the limit or the connection finished. Then, while this connection
    /// holds reply bytes of its own and all connections together are over the total, waits for
    /// the total to fall (a connection with nothing pending may always send one more request).
    private func waitForBacklogToDrain() async {
        while !Task.isCancelled {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let wait = state.withLock { s -> Bool in
                    guard s.overBacklogLimit && !s.finished else { return false }
                    s.readerWaiting = c
                    return true
                }
                if !wait { c.resume() }
            }
            let (finished, holds) = state.withLock { ($0.finished, $0.replyBytes > 0) }
            guard !finished, holds, server.replyBytesInUse > server.policy.totalReplyBytes else { return }
            // The writer resumes this wait once the connection holds nothing (so it may send again).
            await server.waitForReplyMemory(connection: number) { state.withLock { !$0.finished && $0.replyBytes > 0 } }
        }
    }

    private func noteActivity() {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { $0.lastActivity = now }
    }

    /// Sleeps until the connection has been idle for the policy's time-out — nothing in flight,
    /// nothing read or written — then logs and closes it. Returns early when the connection ends
    /// (the task group cancels it).
    /// Nanoseconds since the last activity. The reader may note activity between reading `now` and
    /// taking the lock (`lastActivity` > `now`): that is "not idle" (0), never a wrapped-around
    /// huge idle time — which closed connections the moment their first request arrived.
    static func idleTime(now: UInt64, lastActivity: UInt64) -> UInt64 {
        now > lastActivity ? now - lastActivity : 0
    }

    private func closeWhenIdleTooLong(_ channel: Channel) async {
        let timeout = UInt64(policy.idleTimeoutSeconds * 1e9)
        while !Task.isCancelled {
            let now = DispatchTime.now().uptimeNanoseconds
            let (finished, busy, last) = state.withLock { ($0.finished, $0.inFlight > 0, $0.lastActivity) }
            if finished { return }
            let idleFor = Self.idleTime(now: now, lastActivity: last)
            if !busy && idleFor >= timeout {
                server.logger.info("closing idle connection", metadata: [
                    "connection": "\(number)", "principal": "\(identity.principal)", "idle_s": "\(policy.idleTimeoutSeconds)"])
                closeNow()
                channel.close(promise: nil)
                return
            }
            // Busy: look again within a second (the idle clock restarts when its last request ends).
            let wait = busy ? min(timeout, 1_000_000_000) : timeout - idleFor
            do { try await Task.sleep(nanoseconds: max(wait, 1_000_000)) } catch { return }
        }
    }

    private func write(to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
        defer {
            // Whatever ended the writer, a reader suspended on the backlog must not wait forever.
            state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.readerWaiting = nil }
                return s.readerWaiting
            }?.resume()
            server.resumeReplyWaiter(number)
        }
        do {
            for await line in lines {
                let bytes = line.encode()
                state.withLock { $0.backlogBytes = bytes.count }
                server.addReplyBytes(bytes.count)
                try await outbound.write(ByteBuffer(bytes: bytes))
                server.addReplyBytes(-(bytes.count + line.releasedBytes))
                let reader = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.backlogLines -= 1
                    s.backlogBytes = 0
                    s.pendingRequestBytes -= line.releasedBytes
                    s.lastActivity = DispatchTime.now().uptimeNanoseconds
                    guard !s.overBacklogLimit else { return nil }
                    defer { s.readerWaiting = nil }
                    return s.readerWaiting
                }
                reader?.resume()
                // Holding nothing, the connection may send again even while the total is over.
                if state.withLock({ $0.replyBytes == 0 }) { server.resumeReplyWaiter(number) }
            }
        } catch {
            server.logger.debug("write failed; cancelling the connection's requests",
                                metadata: ["connection": "\(number)", "error": "\(error)"])
            peerGone()
        }
    }

    private func handle(_ event: LineFramer.Event, framer: LineFramer) {
        server.countRequest(identity.principal)
        switch event {
        case .tooLong:
            beginRequest(id: nil)?.error(framer.tooLongError)
        case .line(let bytes):
            let envelope: Envelope
            do {
                envelope = try Envelope.parse(bytes)
            } catch {
                beginRequest(id: error.id, bytes: bytes.count)?.error(error.error)
                return
            }
            guard let sink = beginRequest(id: envelope.id, bytes: bytes.count, op: RequestMetrics.jsonLinesOp(envelope.op)) else { return }
            server.router.route(IncomingRequest(envelope: envelope, client: identity, sink: sink, server: server))
        }
    }
}
