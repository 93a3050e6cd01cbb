// Router — maps a request's `op` to the handler that answers it.
//
// One handler per op, one file each under Handlers/ (the task ops classify, tag, qa, choose and embed
// included). Adding an op is one `RequestHandler` and one entry in `Router.v1`. Handlers run on the connection's
// read loop, in the order the lines arrived, so they must not block: engine submissions return at once,
// and CPU work on the event loop's time (tokenizing a large text) goes to `request.offload`.
// Submitting in arrival order is what makes `cancel` right after `generate` on one connection find it.

import Dispatch
import GPT2JSON
import GPT2Wire

/// Answers one op. `handle` either replies through `request.sink` (now or later, from any thread) or
/// throws; a thrown `WireError` becomes the request's error line.
public protocol RequestHandler: Sendable {
    /// The wire name in "op".
    var op: String { get }
    func handle(_ request: IncomingRequest) throws(WireError)
}

/// A decoded request line with everything a handler needs.
public struct IncomingRequest: Sendable {
    public let envelope: Envelope
    /// Who sent it (peer uid/pid) and on which connection.
    public let client: ClientIdentity
    /// Where the reply goes (exactly one result or error).
    public let sink: ResponseSink
    /// Daemon-wide state: engine, counters, limits.
    public let server: ServerState

    public var id: RequestID? { envelope.id }
    /// The key `cancel` uses for this request.
    public var jobKey: JobKey { JobKey(connection: client.connection, id: envelope.id) }

    /// The body decoded as the op's request type (`missing_field` / `invalid_field` on failure).
    public func decode<R: WireRequest>(_ type: R.Type) throws(WireError) -> R { try envelope.decode(type) }

    /// Runs `work` off the event loop (as `offload`) with the serving model `name` once it serves: a
    /// model keep_alive unloaded is loaded again first and the request waits for that load, as a
    /// `generate` does (`Engine.whenServing`). `unknown_model`, `model_unavailable` (loading,
    /// draining, or the load failed) and anything `work` throws become the error line.
    public func withModel(_ name: String, _ work: @escaping @Sendable (ServedModel) throws(WireError) -> Void) {
        let sink = self.sink
        server.engine.whenServing(name) { found in
            switch found {
            case .success(let m): offload { () throws(WireError) in try work(m) }
            case .failure(let e): sink.error(Self.modelError(e, name))
            }
        }
    }

    private static func modelError(_ error: EngineError, _ name: String) -> WireError {
        if error.code == .unknownModel { return WireError(.unknownModel, "unknown model '\(name)'", field: "model") }
        return WireError(error)
    }

    /// Runs `work` off the event loop (a global dispatch queue); a thrown `WireError` becomes the error
    /// line, any other error `internal_error`.
    public func offload(_ work: @escaping @Sendable () throws(WireError) -> Void) {
        let sink = self.sink
        DispatchQueue.global(qos: .userInitiated).async {
            do throws(WireError) { try work() } catch { sink.error(error) }
        }
    }
}

/// The op table.
public struct Router: Sendable {
    private let handlers: [String: any RequestHandler]

    public init(_ handlers: [any RequestHandler]) {
        var table: [String: any RequestHandler] = [:]
        for h in handlers {
            precondition(table[h.op] == nil, "two handlers for op '\(h.op)'")
            table[h.op] = h
        }
        self.handlers = table
    }

    /// Every op of protocol v1.
    public static let v1 = Router([
        HealthHandler(), ModelsHandler(), TokenizeHandler(), DetokenizeHandler(), GenerateHandler(),
        ScoreHandler(), SessionOpenHandler(), SessionCloseHandler(), SessionListHandler(),
        SessionInfoHandler(), CancelHandler(), StatsHandler(),
        ClassifyHandler(), TagHandler(), QAHandler(), ChooseHandler(), EmbedHandler(), MetricsHandler(),
        SessionForkHandler(),
        ModelsLoadHandler(), ModelsUnloadHandler(),
    ])

    /// The ops served, sorted.
    public var ops: [String] { handlers.keys.sorted() }

    /// Dispatches one request; unknown ops and handler errors are answered here.
    public func route(_ request: IncomingRequest) {
        guard let handler = handlers[request.envelope.op] else {
            request.sink.error(WireOps.unknownOp(request.envelope.op))
            return
        }
        do {
            try handler.handle(request)
        } catch {
            request.sink.error(error)
        }
    }
}
