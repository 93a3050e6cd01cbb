// GPT2Client — an async Swift client for gpt2d (PROTOCOL.md, protocol v1).
//
// One client = one Unix-socket connection that carries any number of concurrent requests. Each request
// gets a client-generated id (`c1`, `c2`, …, unique on the connection); response lines, which may
// interleave between requests, are matched back by id. Typed requests and responses come from GPT2Wire.
//
//     let client = GPT2Client()                       // $GPT2D_SOCKET or /run/gpt2d/gpt2d.sock
//     let r = try await client.generate(GenerateRequest(model: "gpt2", input: .text("Hello")))
//     for try await update in client.generateStream(GenerateRequest(model: "gpt2", input: .text("Hi"))) {
//         if case .token(let t) = update { print(t.text, terminator: "") }
//     }
//
// Threading: `GPT2Client` is an actor; all bookkeeping (pending requests, the connection) is isolated to
// it. Socket I/O runs on swift-nio's shared event-loop group (see Connection.swift); one reader task per
// connection delivers response lines to the actor in order. The client connects lazily on the first
// request (or explicitly with `connect()`), and reconnects on the next request after the connection
// closed. Cancelling the task that awaits a request — or dropping / cancelling the iteration of a
// `generateStream` — sends `cancel` for that request.

import GPT2JSON
import GPT2Wire
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One step of a streamed generation: the tokens as they are produced, then the final result.
public enum GenerationUpdate: Sendable, Equatable {
    /// A generated token (its `text` may be "" while a multi-byte character is incomplete).
    case token(TokenEvent)
    /// The final result; the stream ends after it.
    case done(GenerateResponse)
}

public actor GPT2Client {
    /// The socket path used when neither the caller nor `GPT2D_SOCKET` names one (gpt2d.socket's
    /// `ListenStream=`).
    public static let defaultSocketPath = "/run/gpt2d/gpt2d.sock"
    /// The environment variable naming the socket.
    public static let socketEnvironmentVariable = "GPT2D_SOCKET"

    /// The socket this client connects to.
    public nonisolated let socketPath: String
    /// The timeout applied to requests that don't pass their own (nil = wait forever).
    public var defaultTimeout: Duration?
    /// Request lines longer than this are refused locally (`requestTooLarge`): the daemon's line limit.
    public var maxRequestBytes: Int
    private let maxResponseLineBytes: Int

    private enum Waiter {
        /// A one-line request: resumed with the result body or an error.
        case single(CheckedContinuation<JSONObject, any Error>)
        /// A streaming generate.
        case stream(AsyncThrowingStream<GenerationUpdate, any Error>.Continuation)
        /// A request whose answer nobody waits for (a `cancel` sent on someone's behalf).
        case discard
    }

    private struct Pending {
        var waiter: Waiter
        var op: String
        var timeoutTask: Task<Void, Never>?
    }

    private var connection: Connection?
    private var connecting: Task<Connection, any Error>?
    private var connectionCount = 0
    private var nextID = 0
    private var pending: [RequestID: Pending] = [:]

    /// - Parameters:
    ///   - socketPath: the daemon's socket; nil = `$GPT2D_SOCKET`, else `/run/gpt2d/gpt2d.sock`.
    ///   - timeout: default per-request timeout (nil = none).
    ///   - maxRequestBytes: longest request line sent (the daemon's `max_line_bytes`, 1 MiB by default).
    public init(socketPath: String? = nil, timeout: Duration? = nil,
                maxRequestBytes: Int = ProtocolVersion.defaultMaxLineBytes,
                maxResponseLineBytes: Int = 256 << 20) {
        self.socketPath = Self.resolveSocketPath(socketPath)
        self.defaultTimeout = timeout
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseLineBytes = maxResponseLineBytes
    }

    /// `path` if given and non-empty, else `$GPT2D_SOCKET` if set and non-empty, else the default.
    public static func resolveSocketPath(_ path: String?) -> String {
        if let path, !path.isEmpty { return path }
        if let env = getenv(socketEnvironmentVariable), env.pointee != 0 { return String(cString: env) }
        return defaultSocketPath
    }

    deinit {
        connection?.close()
    }

    // MARK: Connection

    /// Connects now (requests also connect on demand). Throws `GPT2ClientError.connectionFailed`.
    public func connect() async throws {
        _ = try await currentConnection()
    }

    /// True while a connection is open.
    public var isConnected: Bool { connection != nil }

    /// Closes the connection; requests still in flight fail with `connectionClosed` (the daemon cancels
    /// them). A later request opens a new connection.
    public func close() {
        guard let c = connection else { return }
        connection = nil
        c.close()
        failAll(GPT2ClientError.connectionClosed)
    }

    private func currentConnection() async throws -> Connection {
        if let connection { return connection }
        if let connecting { return try await connecting.value }
        connectionCount += 1
        let number = connectionCount
        let (path, limit) = (socketPath, maxResponseLineBytes)
        let task = Task { try await Connection.open(path: path, number: number, maxResponseLineBytes: limit) }
        connecting = task
        defer { connecting = nil }
        let c = try await task.value
        connection = c
        Task { [weak self] in
            for await event in c.events {
                guard let self else { return }
                await self.handle(event, from: c)
            }
        }
        return c
    }

    // MARK: Generic requests

    /// Sends any request and returns its decoded result. `timeout` overrides `defaultTimeout`.
    /// For `GenerateRequest` with `stream: true`, token lines are skipped; use `generateStream` to see them.
    public func send<R: WireRequest>(_ request: R, id: RequestID? = nil, timeout: Duration? = nil) async throws -> R.Response {
        let body = try await roundTrip(request, id: id, timeout: timeout ?? defaultTimeout)
        do {
            return try R.Response(from: body)
        } catch {
            throw GPT2ClientError.protocolViolation("\(R.op) result: \(error.message)")
        }
    }

    private func roundTrip<R: WireRequest>(_ request: R, id explicitID: RequestID?, timeout: Duration?) async throws -> JSONObject {
        try Task.checkCancellation()
        let id = explicitID ?? makeID()
        let line = RequestLine.encode(request, id: id)
        guard line.count - 1 <= maxRequestBytes else {
            throw GPT2ClientError.requestTooLarge(bytes: line.count - 1, limit: maxRequestBytes)
        }
        let conn = try await currentConnection()
        guard pending[id] == nil else {
            throw GPT2ClientError.protocolViolation("request id \(id) is already in flight on this connection")
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<JSONObject, any Error>) in
                pending[id] = Pending(waiter: .single(c), op: R.op, timeoutTask: startTimer(id, timeout))
                write(line, id: id, on: conn)
            }
        } onCancel: {
            Task { await self.abandon(id, because: CancellationError()) }
        }
    }

    private func makeID() -> RequestID {
        nextID += 1
        return .string("c\(nextID)")
    }

    private func write(_ line: [UInt8], id: RequestID, on conn: Connection) {
        conn.write(line).whenFailure { _ in
            Task { await self.complete(id, with: .failure(GPT2ClientError.connectionClosed)) }
        }
    }

    private func startTimer(_ id: RequestID, _ timeout: Duration?) -> Task<Void, Never>? {
        guard let timeout else { return nil }
        return Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            self.abandon(id, because: GPT2ClientError.timeout)
        }
    }

    // MARK: Ops

    /// `health`: liveness and protocol version.
    public func health(timeout: Duration? = nil) async throws -> HealthResponse {
        try await send(HealthRequest(), timeout: timeout)
    }

    /// `models`: the served models, and those keep_alive unloaded (`loaded == false`).
    public func models(timeout: Duration? = nil) async throws -> ModelsResponse {
        try await send(ModelsRequest(), timeout: timeout)
    }

    /// `tokenize`: token ids and code-point offsets of `text`.
    public func tokenize(model: String, text: String, timeout: Duration? = nil) async throws -> TokenizeResponse {
        try await send(TokenizeRequest(model: model, text: text), timeout: timeout)
    }

    /// `detokenize`: the text of `tokens`.
    public func detokenize(model: String, tokens: [Int], skipSpecialTokens: Bool = false,
                           timeout: Duration? = nil) async throws -> DetokenizeResponse {
        try await send(DetokenizeRequest(model: model, tokens: tokens, skipSpecialTokens: skipSpecialTokens), timeout: timeout)
    }

    /// `generate` without streaming (the request's `stream` flag is ignored).
    /// - Parameter id: the wire id to use (to `cancel(id:)` it from another task); nil = generated.
    public func generate(_ request: GenerateRequest, id: RequestID? = nil, timeout: Duration? = nil) async throws -> GenerateResponse {
        var r = request
        r.stream = false
        return try await send(r, id: id, timeout: timeout)
    }

    /// `score`: per-token log-probabilities and perplexity.
    public func score(_ request: ScoreRequest, timeout: Duration? = nil) async throws -> ScoreResponse {
        try await send(request, timeout: timeout)
    }

    /// `session.open`: a new session on `model`. With `name`, the caller's session of that name if it
    /// exists (`created == false`), else a new one with that name (unique per owner).
    /// - Parameter idleTimeoutSeconds: seconds unused before it is closed (nil: the daemon's
    ///   `session_idle_timeout_s`, which is also the most it accepts).
    public func sessionOpen(model: String, name: String? = nil, idleTimeoutSeconds: Double? = nil,
                            timeout: Duration? = nil) async throws -> SessionInfo {
        try await send(SessionOpenRequest(model: model, name: name, idleTimeoutSeconds: idleTimeoutSeconds), timeout: timeout)
    }

    /// `session.fork`: a new session holding a copy of `session`'s history (its KV cache shared
    /// copy-on-write), optionally named.
    public func sessionFork(_ session: String, name: String? = nil, timeout: Duration? = nil) async throws -> SessionInfo {
        try await send(SessionForkRequest(session: session, name: name), timeout: timeout)
    }

    /// `session.close`.
    public func sessionClose(_ session: String, timeout: Duration? = nil) async throws -> SessionCloseResponse {
        try await send(SessionCloseRequest(session: session), timeout: timeout)
    }

    /// `session.list`: this Unix user's sessions (sizes, last use) and `totals` against the quotas.
    public func sessionList(timeout: Duration? = nil) async throws -> SessionListResponse {
        try await send(SessionListRequest(), timeout: timeout)
    }

    /// `session.info`.
    public func sessionInfo(_ session: String, timeout: Duration? = nil) async throws -> SessionInfo {
        try await send(SessionInfoRequest(session: session), timeout: timeout)
    }

    /// `cancel`: stops the in-flight request with wire id `id` on this connection (see the `id:`
    /// parameters of `generate` / `generateStream`). That request then fails with `cancelled`.
    public func cancel(id: RequestID, timeout: Duration? = nil) async throws -> CancelResponse {
        try await send(CancelRequest(targetID: id), timeout: timeout)
    }

    /// `stats`: daemon counters.
    public func stats(timeout: Duration? = nil) async throws -> StatsResponse {
        try await send(StatsRequest(), timeout: timeout)
    }

    /// `metrics`: the daemon's Prometheus text exposition (root and `admin_group` only, else `forbidden`).
    public func metrics(timeout: Duration? = nil) async throws -> MetricsResponse {
        try await send(MetricsRequest(), timeout: timeout)
    }

    // MARK: Task ops

    /// `classify`: sequence classification of `texts` (sent as `texts`; one label list per text, in order).
    /// - Parameters:
    ///   - topK: nil = the best label only; 0 = every label; k = the k best.
    ///   - functionToApply: nil = the checkpoint's default (softmax, sigmoid or none).
    public func classify(model: String, texts: [String], topK: Int? = nil,
                         functionToApply: ClassifyRequest.Function? = nil,
                         timeout: Duration? = nil) async throws -> ClassifyResponse {
        try await send(ClassifyRequest(model: model, texts: texts, batch: true, topK: topK, function: functionToApply),
                       timeout: timeout)
    }

    /// `classify` of one text (sent as `text`): its labels, best first (one entry unless `topK` is given).
    public func classify(model: String, text: String, topK: Int? = nil,
                         functionToApply: ClassifyRequest.Function? = nil,
                         timeout: Duration? = nil) async throws -> [ClassifyLabel] {
        let r = try await send(ClassifyRequest(model: model, texts: [text], batch: false, topK: topK, function: functionToApply),
                               timeout: timeout)
        guard r.results.count == 1 else {
            throw GPT2ClientError.protocolViolation("classify result: expected 1 result list, got \(r.results.count)")
        }
        return r.results[0]
    }

    /// `tag`: token classification (named entities) of `text`.
    public func tag(model: String, text: String, aggregationStrategy: TagRequest.Aggregation = .none,
                    ignoreLabels: [String] = ["O"], maxLength: Int? = nil, stride: Int? = nil,
                    timeout: Duration? = nil) async throws -> [TagEntity] {
        try await send(TagRequest(model: model, text: text, aggregation: aggregationStrategy, ignoreLabels: ignoreLabels,
                                  maxLength: maxLength, stride: stride), timeout: timeout).entities
    }

    /// `qa`: extractive question answering; the answers, best first (at most `topK`).
    public func qa(model: String, question: String, context: String, topK: Int = 1, docStride: Int? = nil,
                   maxAnswerLen: Int = 15, maxSeqLen: Int? = nil, maxQuestionLen: Int = 64,
                   handleImpossibleAnswer: Bool = false, alignToWords: Bool = true,
                   timeout: Duration? = nil) async throws -> [QAAnswer] {
        try await send(QARequest(model: model, question: question, context: context, topK: topK, docStride: docStride,
                                 maxAnswerLen: maxAnswerLen, maxSeqLen: maxSeqLen, maxQuestionLen: maxQuestionLen,
                                 handleImpossibleAnswer: handleImpossibleAnswer, alignToWords: alignToWords),
                       timeout: timeout).answers
    }

    /// `choose`: multiple choice; `scores` (one mc_logit per choice) and the `best` index.
    /// - Parameter mcTokenIndex: per choice, the token index (into prompt + choice) to score; nil = last.
    public func choose(model: String, prompt: String? = nil, choices: [String], mcTokenIndex: [Int]? = nil,
                       timeout: Duration? = nil) async throws -> ChooseResponse {
        try await send(ChooseRequest(model: model, prompt: prompt, choices: choices, mcTokenIndex: mcTokenIndex),
                       timeout: timeout)
    }

    /// `embed`: one pooled final-hidden-state vector per text (sent as `texts`), and `dims`.
    public func embed(model: String, texts: [String], pooling: EmbedRequest.Pooling = .last, normalize: Bool = false,
                      timeout: Duration? = nil) async throws -> EmbedResponse {
        try await send(EmbedRequest(model: model, texts: texts, batch: true, pooling: pooling, normalize: normalize),
                       timeout: timeout)
    }

    /// `embed` of one text (sent as `text`): its vector.
    public func embed(model: String, text: String, pooling: EmbedRequest.Pooling = .last, normalize: Bool = false,
                      timeout: Duration? = nil) async throws -> [Float] {
        let r = try await send(EmbedRequest(model: model, texts: [text], batch: false, pooling: pooling, normalize: normalize),
                               timeout: timeout)
        guard r.embeddings.count == 1 else {
            throw GPT2ClientError.protocolViolation("embed result: expected 1 embedding, got \(r.embeddings.count)")
        }
        return r.embeddings[0]
    }

    // MARK: Streaming generate

    /// `generate` with `"stream": true`: yields `.token` per generated token, then `.done` with the result,
    /// then ends. A daemon error ends the stream by throwing `GPT2ClientError.daemon`. Cancelling the
    /// consuming task or dropping the stream sends `cancel` for the request.
    /// - Parameter id: the wire id to use; nil = generated.
    public nonisolated func generateStream(_ request: GenerateRequest, id: RequestID? = nil,
                                           timeout: Duration? = nil) -> AsyncThrowingStream<GenerationUpdate, any Error> {
        var r = request
        r.stream = true
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationUpdate.self)
        let request = r
        Task { await self.startStream(request, id: id, timeout: timeout, continuation) }
        return stream
    }

    private func startStream(_ request: GenerateRequest, id explicitID: RequestID?, timeout: Duration?,
                             _ continuation: AsyncThrowingStream<GenerationUpdate, any Error>.Continuation) async {
        let id = explicitID ?? makeID()
        let line = RequestLine.encode(request, id: id)
        guard line.count - 1 <= maxRequestBytes else {
            continuation.finish(throwing: GPT2ClientError.requestTooLarge(bytes: line.count - 1, limit: maxRequestBytes))
            return
        }
        let conn: Connection
        do {
            conn = try await currentConnection()
        } catch {
            continuation.finish(throwing: error)
            return
        }
        guard pending[id] == nil else {
            continuation.finish(throwing: GPT2ClientError.protocolViolation("request id \(id) is already in flight on this connection"))
            return
        }
        pending[id] = Pending(waiter: .stream(continuation), op: GenerateRequest.op,
                              timeoutTask: startTimer(id, timeout ?? defaultTimeout))
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                Task { await self.abandon(id, because: CancellationError()) }
            }
        }
        write(line, id: id, on: conn)
    }

    // MARK: Inbound

    private func handle(_ event: InboundEvent, from conn: Connection) {
        switch event {
        case .response(let r):
            dispatch(r)
        case .malformed(let message):
            // The stream is no longer trustworthy: fail everything on this connection and drop it.
            guard connection === conn else { return }
            connection = nil
            conn.close()
            failAll(GPT2ClientError.protocolViolation(message))
        case .closed:
            guard connection === conn else { return }
            connection = nil
            failAll(GPT2ClientError.connectionClosed)
        }
    }

    private func dispatch(_ response: IncomingResponse) {
        // Lines with "id": null answer a line the daemon could not read; ours are always readable.
        guard let id = response.id, let p = pending[id] else { return }
        switch response.kind {
        case .token(let event):
            guard case .stream(let c) = p.waiter else { return }
            if case .terminated = c.yield(.token(event)) {
                abandon(id, because: CancellationError())
            }
        case .result(let body):
            complete(id, with: .success(body))
        case .error(let error):
            complete(id, with: .failure(GPT2ClientError.daemon(error)))
        }
    }

    /// Ends request `id` with its final answer.
    private func complete(_ id: RequestID, with outcome: Result<JSONObject, any Error>) {
        guard let p = pending.removeValue(forKey: id) else { return }
        p.timeoutTask?.cancel()
        switch p.waiter {
        case .single(let c):
            c.resume(with: outcome)
        case .stream(let c):
            switch outcome {
            case .success(let body):
                do {
                    c.yield(.done(try GenerateResponse(from: body)))
                    c.finish()
                } catch {
                    c.finish(throwing: GPT2ClientError.protocolViolation("generate result: \(error.message)"))
                }
            case .failure(let e):
                c.finish(throwing: e)
            }
        case .discard:
            break
        }
    }

    /// Gives up on request `id` (cancelled, timed out, stream dropped): fails its waiter with `error` and
    /// asks the daemon to stop it; the daemon's `cancelled` line is then ignored.
    private func abandon(_ id: RequestID, because error: any Error) {
        guard pending[id] != nil else { return }
        complete(id, with: .failure(error))
        guard let conn = connection else { return }
        let cancelID = makeID()
        pending[cancelID] = Pending(waiter: .discard, op: CancelRequest.op, timeoutTask: nil)
        write(RequestLine.encode(CancelRequest(targetID: id), id: cancelID), id: cancelID, on: conn)
    }

    private func failAll(_ error: any Error) {
        for id in Array(pending.keys) {
            complete(id, with: .failure(error))
        }
    }
}
