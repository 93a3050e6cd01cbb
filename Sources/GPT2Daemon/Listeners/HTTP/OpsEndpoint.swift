// OpsEndpoint — gpt2d's own ops over HTTP with exactly PROTOCOL.md's fields: the body is the op's
// request object (without "id" and "op"), the answer its result object. The request is routed through
// the JSON-lines `Router` — the same decoders, handlers, limits and engine calls — with a sink that
// keeps the one final line; an error line becomes an OpenAI error object whose `code` is the wire's
// code and whose `param` is the wire's field. Streaming ops (generate) are not offered here: use
// /v1/completions.
//
//   POST /tokenize, /detokenize, /v1/score, /v1/classify, /v1/tag, /v1/qa, /v1/choose, /v1/embed
//   GET /v1/stats
//   POST /v1/sessions (session.open) · GET /v1/sessions (session.list)
//   GET /v1/sessions/{id} (session.info) · DELETE /v1/sessions/{id} (session.close)
//   POST /v1/sessions/{id}/fork (session.fork; the body may hold `name`)
// Sessions belong to the connection's peer uid: the same sessions as that user's JSON-lines ones.
import GPT2JSON
import GPT2Wire
import NIOHTTP1

struct OpsEndpoint {
    let context: HTTPContext
    let server: ServerState

    /// The op of a POST path whose body is the op's fields.
    static let postOps: [String: String] = [
        "/tokenize": "tokenize", "/detokenize": "detokenize", "/v1/score": "score", "/v1/classify": "classify",
        "/v1/tag": "tag", "/v1/qa": "qa", "/v1/choose": "choose", "/v1/embed": "embed", "/v1/sessions": "session.open",
    ]
    static let sessionsPrefix = "/v1/sessions/"

    /// The op (and fields taken from the path) of a request, or nil when none serves it.
    static func op(_ method: HTTPMethod, _ path: String) -> (op: String, fields: JSONObject)? {
        let isSession = path.hasPrefix(sessionsPrefix) && path.count > sessionsPrefix.count && forkSource(path) == nil
        switch (method, path) {
        case (.POST, _) where forkSource(path) != nil: return ("session.fork", ["session": .string(forkSource(path)!)])
        case (.POST, _): return postOps[path].map { ($0, [:]) }
        case (.GET, "/v1/stats"): return ("stats", [:])
        case (.GET, "/v1/sessions"): return ("session.list", [:])
        case (.GET, _) where isSession:
            return ("session.info", ["session": .string(String(path.dropFirst(sessionsPrefix.count)))])
        case (.DELETE, _) where isSession:
            return ("session.close", ["session": .string(String(path.dropFirst(sessionsPrefix.count)))])
        default: return nil
        }
    }

    /// The session id of a `/v1/sessions/{id}/fork` path (an id without `/`), or nil.
    static func forkSource(_ path: String) -> String? {
        guard path.hasPrefix(sessionsPrefix), path.hasSuffix("/fork") else { return nil }
        let id = path.dropFirst(sessionsPrefix.count).dropLast("/fork".count)
        return id.isEmpty || id.contains("/") ? nil : String(id)
    }

    func answer(op: String, fields: JSONObject, body: [UInt8]) async -> HTTPAnswer {
        var request: JSONObject = [:]
        if !body.isEmpty {
            do throws(OpenAIError) { request = try OpenAIFields(parsing: body).body } catch { return .error(error) }
        }
        request["id"] = nil
        for (k, v) in fields { request[k] = v }
        let envelope = Envelope(id: nil, op: op, body: request)
        let line: [UInt8] = await withCheckedContinuation { c in
            let sink = ResponseSink(id: nil, connection: FinalLineOutput { c.resume(returning: $0) })
            server.router.route(IncomingRequest(envelope: envelope, client: context.client, sink: sink, server: server))
        }
        do {
            switch try IncomingResponse.parse(line).kind {
            case .result(let o): return .json(.ok, .object(o))
            case .error(let e): return .error(Self.error(e))
            case .token: return .error(OpenAIError(.internalServerError, "a token line where a result was due", type: "server_error"))
            }
        } catch {
            return .error(OpenAIError(.internalServerError, "\(error)", type: "server_error"))
        }
    }

    /// A wire error as an OpenAI error object: the wire's code and field, the status of its meaning.
    static func error(_ e: WireError) -> OpenAIError {
        let status: HTTPResponseStatus
        switch e.code {
        case .unknownOp, .unknownModel, .unknownSession: status = .notFound
        case .sessionForbidden, .forbidden: status = .forbidden
        case .sessionBusy, .modelExists: status = .conflict
        case .lineTooLong, .tooLarge: status = .payloadTooLarge
        case .overloaded, .quotaExceeded: status = .tooManyRequests
        case .shuttingDown, .modelUnavailable, .cancelled, .storageUnavailable: status = .serviceUnavailable
        case .internalError: status = .internalServerError
        case .parseError, .invalidUTF8, .invalidRequest, .invalidField, .missingField, .contextOverflow, .unsupportedTask,
             .modelLoadFailed:
            status = .badRequest
        }
        let type = status.code >= 500 || status == .tooManyRequests ? "server_error" : "invalid_request_error"
        return OpenAIError(status, e.message, type: type, param: e.field, code: e.code.rawValue)
    }
}

/// A connection output that keeps only a request's final line (handed to `done`, once).
private final class FinalLineOutput: ConnectionOutput, @unchecked Sendable {
    private let done: @Sendable ([UInt8]) -> Void
    init(_ done: @escaping @Sendable ([UInt8]) -> Void) { self.done = done }
    func send(_ line: OutgoingLine, final: Bool, isError: Bool) {
        if final { done(line.encode()) }
    }
}
