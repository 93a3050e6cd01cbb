// HTTPRoutes — which endpoint answers a method and path: the OpenAI endpoints, then gpt2d's own ops
// (OpsEndpoint). An unknown path is a 404, a known path with another method a 405 (OpenAI's error
// object either way).
import Foundation
import NIOHTTP1

enum HTTPRoutes {
    static func answer(_ request: HTTPRequest, context: HTTPContext) async -> HTTPAnswer {
        let info = InfoEndpoints(context: context)
        switch (request.method, request.path) {
        case (.POST, "/v1/completions"): return await CompletionsEndpoint(context: context).answer(request)
        case (.POST, "/v1/embeddings"): return await EmbeddingsEndpoint(context: context).answer(request)
        case (.POST, "/v1/chat/completions"): return info.chatCompletions()
        case (.GET, "/v1/models"): return info.models()
        case (.GET, "/health"): return info.health()
        case (.GET, "/metrics"): return info.metrics()
        case (.GET, let path) where path.hasPrefix("/v1/models/") && path.count > "/v1/models/".count:
            return info.model(String(path.dropFirst("/v1/models/".count)).removingPercentEncodingIfValid)
        default:
            if let (op, fields) = OpsEndpoint.op(request.method, request.path) {
                return await OpsEndpoint(context: context, server: context.server).answer(op: op, fields: fields, body: request.body)
            }
            if let allowed = allowedMethod(request.path) {
                return .error(OpenAIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.path); use \(allowed)",
                                          code: "method_not_allowed"))
            }
            return .error(OpenAIError(.notFound, "no endpoint \(request.path)", code: "unknown_url"))
        }
    }

    /// The method a known path takes.
    private static func allowedMethod(_ path: String) -> String? {
        switch path {
        case "/v1/completions", "/v1/embeddings", "/v1/chat/completions": return "POST"
        case "/v1/models", "/health", "/metrics": return "GET"
        case "/v1/stats": return "GET"
        case "/v1/sessions": return "GET or POST"
        default:
            if path.hasPrefix("/v1/models/") { return "GET" }
            if OpsEndpoint.forkSource(path) != nil { return "POST" }
            if path.hasPrefix(OpsEndpoint.sessionsPrefix) { return "GET or DELETE" }
            return OpsEndpoint.postOps[path] != nil ? "POST" : nil
        }
    }
}

extension HTTPRoutes {
    /// The `op` label of a request in the metrics: its endpoint's path, with `{id}` for the variable
    /// part (`/v1/models/{id}`, `/v1/sessions/{id}`, `/v1/sessions/{id}/fork`), or `other` for a path
    /// nothing serves — never a client's own text, so the label has a fixed set of values.
    static func endpoint(_ path: String) -> String {
        if path.hasPrefix("/v1/models/") && path.count > "/v1/models/".count { return "/v1/models/{id}" }
        if OpsEndpoint.forkSource(path) != nil { return "/v1/sessions/{id}/fork" }
        if path.hasPrefix(OpsEndpoint.sessionsPrefix) && path.count > OpsEndpoint.sessionsPrefix.count { return "/v1/sessions/{id}" }
        return allowedMethod(path) != nil ? path : "other"
    }
}

extension String {
    /// Percent-decoded (a model id in a path), or unchanged when the escapes are malformed.
    var removingPercentEncodingIfValid: String { removingPercentEncoding ?? self }
}
