// HTTPConnection — one accepted HTTP client: reads one request at a time (head, body parts, end),
// answers it (HTTPRoutes), and reads the next: pipelined requests are answered in order, and a
// request's body is bounded before it is buffered.
//
//   Content-Length over the limit → 413 before any body is read; a chunked (or any) body that grows
//   over it → 413 as soon as it does; either way the connection closes (the rest is unread).
//   Expect: 100-continue → "100 Continue" is sent before the body is read (unless 413 first).
//   A request not whole within `requestTimeout` (slow sender) → 408 and close; an idle keep-alive
//   connection past it is closed quietly (`RequestDeadline`).
//   Keep-alive as HTTP/1.1 says (Connection: close, or HTTP/1.0 without keep-alive, closes after the answer).
//   On the loopback TCP socket (`tokens` set) every request but `GET /health` must carry
//   `Authorization: Bearer <token>` naming a principal (BearerTokens); without one → 401 at the head,
//   before any body is read, and close. Each request runs as its own token's principal.
// Ending: the client closes (or a write fails): the connection's engine jobs are cancelled. Daemon
// shutdown: `closeWhenIdle()` closes now between requests, else after the answer in progress;
// `closeNow()` closes at once.

import GPT2JSON
import Logging
import NIOCore
import NIOHTTP1

final class HTTPConnection: @unchecked Sendable {
    /// Where the connection is between requests.
    enum Phase { case idle, receiving, answering, timedOut }
    private struct State {
        var phase = Phase.idle
        var closing = false
    }
    private let state = Locked(State())
    private let channel: Channel
    private let context: HTTPContext
    private let limits: HTTPLimits
    private let logger: Logger
    /// The token file on the TCP socket; nil on the Unix socket (the context's peer is the caller).
    private let tokens: BearerTokens?

    init(channel: Channel, context: HTTPContext, limits: HTTPLimits, logger: Logger, tokens: BearerTokens? = nil) {
        self.channel = channel
        self.context = context
        self.limits = limits
        self.logger = logger
        self.tokens = tokens
    }

    /// The context a request runs in: the connection's, or on TCP its bearer token's principal
    /// (nil: no valid token — 401). `GET /health` needs none (a load balancer's probe).
    private func requestContext(_ head: HTTPRequestHead) -> HTTPContext? {
        guard let tokens else { return context }
        if head.method == .GET && head.uri.prefix(while: { $0 != "?" }) == "/health" { return context }
        guard let name = tokens.principal(authorization: head.headers.first(name: "authorization")) else { return nil }
        var client = context.client
        client.principal = .token(name: name)
        return HTTPContext(server: context.server, client: client, startedAt: context.startedAt)
    }

    static let unauthorized = OpenAIError(
        .unauthorized, "this socket needs 'Authorization: Bearer <token>' with a token from the daemon's token file",
        type: "invalid_request_error", code: "invalid_api_key")

    /// Closes between requests now; during one, after its answer.
    func closeWhenIdle() {
        let now = state.withLock { s -> Bool in
            s.closing = true
            return s.phase == .idle
        }
        if now { channel.close(promise: nil) }
    }

    func closeNow() { channel.close(promise: nil) }

    /// The deadline passed: the phase it passed in (now `timedOut`), or nil while a request is answered.
    func timeOut() -> Phase? {
        state.withLock { s in
            guard s.phase == .idle || s.phase == .receiving else { return nil }
            defer { s.phase = .timedOut }
            return s.phase
        }
    }

    /// Moves to `p` unless the deadline already passed (then false: the connection is closing).
    private func enter(_ p: Phase) -> Bool {
        state.withLock { s in
            guard s.phase != .timedOut else { return false }
            s.phase = p
            return true
        }
    }
    private var closing: Bool { state.withLock { $0.closing } }

    /// Serves the connection until it closes. Never throws: failures end only this connection.
    func run(_ channel: HTTPListener.Child) async {
        let deadline = RequestDeadline(channel: channel.channel, timeout: limits.requestTimeout, connection: self)
        do {
            try await channel.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var current = context
                var body: [UInt8] = []
                var limit = limits.maxBodyBytes()
                deadline.arm()
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        guard enter(.receiving) else { return }
                        head = h
                        body = []
                        limit = limits.maxBodyBytes()
                        guard let c = requestContext(h) else {
                            return try await respond(.error(Self.unauthorized), version: h.version, keepAlive: false, outbound)
                        }
                        current = c
                        if let length = h.headers.first(name: "content-length").flatMap(Int.init), length > limit {
                            return try await refuse(Self.tooLarge(limit), h, outbound)
                        }
                        if h.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                            try await outbound.write(.head(HTTPResponseHead(version: h.version, status: .continue)))
                        }
                    case .body(let buffer):
                        guard let h = head else { continue }
                        if body.count + buffer.readableBytes > limit {
                            return try await refuse(Self.tooLarge(limit), h, outbound)
                        }
                        body.append(contentsOf: buffer.readableBytesView)
                    case .end:
                        guard let h = head else { continue }
                        head = nil
                        guard enter(.answering) else { return }
                        deadline.disarm()
                        let request = HTTPRequest(method: h.method, path: String(h.uri.prefix { $0 != "?" }), body: body)
                        body = []
                        let answer = await HTTPRoutes.answer(request, context: current)
                        context.server.metrics.requests.record(.http, op: HTTPRoutes.endpoint(request.path),
                                                               outcome: String(answer.status.code))
                        // An HTTP/1.0 client cannot take a chunked stream: the stream ends with the connection.
                        let keepAlive = h.isKeepAlive && !closing && !(answer.isStream && h.version == .http1_0)
                        try await respond(answer, version: h.version, keepAlive: keepAlive, outbound)
                        if !keepAlive || closing { return }
                        guard enter(.idle) else { return }
                        deadline.arm()
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection closed with error", metadata: ["connection": "\(context.client.connection)", "error": "\(error)"])
        }
        deadline.disarm()
        // Whatever ended the connection, its jobs must not keep running.
        context.engine.cancelAll(connection: context.client.connection)
    }

    static func tooLarge(_ limit: Int) -> OpenAIError {
        OpenAIError(.payloadTooLarge, "the request body is larger than \(limit) bytes (max_line_bytes)", code: "request_too_large")
    }

    /// Answers `error` before the request was read whole (counted like an answered request), then closes.
    private func refuse(_ error: OpenAIError, _ h: HTTPRequestHead, _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        let path = String(h.uri.prefix { $0 != "?" })
        context.server.metrics.requests.record(.http, op: HTTPRoutes.endpoint(path), outcome: String(error.status.code))
        try await respond(.error(error), version: h.version, keepAlive: false, outbound)
    }

    /// Writes one answer: a JSON body with its length, a text body, or server-sent events (chunked) ending in
    /// `data: [DONE]`.
    private func respond(_ answer: HTTPAnswer, version: HTTPVersion, keepAlive: Bool,
                         _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders([("server", "gpt2d")])
        if !keepAlive { headers.add(name: "connection", value: "close") }
        else if version == .http1_0 { headers.add(name: "connection", value: "keep-alive") }
        switch answer {
        case .json(let status, let json):
            let bytes = json.serializedBytes() + [0x0A]
            if status == .unauthorized { headers.add(name: "www-authenticate", value: "Bearer") }
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(bytes.count))
            try await outbound.write(contentsOf: [
                .head(HTTPResponseHead(version: version, status: status, headers: headers)),
                .body(.byteBuffer(ByteBuffer(bytes: bytes))), .end(nil),
            ])
        case .text(let status, let contentType, let text):
            let bytes = Array(text.utf8)
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "content-length", value: String(bytes.count))
            try await outbound.write(contentsOf: [
                .head(HTTPResponseHead(version: version, status: status, headers: headers)),
                .body(.byteBuffer(ByteBuffer(bytes: bytes))), .end(nil),
            ])
        case .eventStream(let produce):
            headers.add(name: "content-type", value: "text/event-stream")
            headers.add(name: "cache-control", value: "no-cache")
            try await outbound.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
            try await produce { json in
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: Self.event(json.serializedBytes())))))
            }
            try await outbound.write(contentsOf: [.body(.byteBuffer(ByteBuffer(bytes: Self.event(Array("[DONE]".utf8))))), .end(nil)])
        }
    }

    /// One server-sent event: `data: <payload>\n\n`.
    static func event(_ payload: [UInt8]) -> [UInt8] { Array("data: ".utf8) + payload + [0x0A, 0x0A] }
}

/// The time a connection has for its next request (see HTTPConnection). Armed when the connection
/// opens and after each answer, disarmed once a request is whole. Firing while a request is partly
/// received writes 408 straight to the channel (nothing else writes then) and closes; firing between
/// requests only closes. The timer runs on the channel's event loop.
final class RequestDeadline: @unchecked Sendable {
    private let channel: Channel
    private let timeout: TimeAmount
    private unowned let connection: HTTPConnection
    private let scheduled = Locked<Scheduled<Void>?>(nil)

    init(channel: Channel, timeout: TimeAmount, connection: HTTPConnection) {
        self.channel = channel; self.timeout = timeout; self.connection = connection
    }

    func arm() {
        let task = channel.eventLoop.scheduleTask(in: timeout) { [self] in fire() }
        scheduled.withLock { old in
            old?.cancel()
            old = task
        }
    }

    func disarm() { scheduled.withLock { $0?.cancel(); $0 = nil } }

    private func fire() {
        switch connection.timeOut() {
        case nil, .answering, .timedOut:
            return
        case .idle:
            channel.close(promise: nil)
        case .receiving:
            let e = OpenAIError(.requestTimeout, "the request did not arrive within the time allowed", code: "request_timeout")
            let bytes = e.json.serializedBytes() + [0x0A]
            let headers = HTTPHeaders([("server", "gpt2d"), ("connection", "close"), ("content-type", "application/json"),
                                       ("content-length", String(bytes.count))])
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes))), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { [channel] _ in channel.close(promise: nil) }
        }
    }
}
