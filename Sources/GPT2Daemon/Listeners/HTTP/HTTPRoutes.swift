// HTTPRoutes — which endpoint answers a method and path. An unknown path is a 404, a known path with
// another method a 405 (OpenAI's error object either way).
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
        case (.GET, let path) where path.hasPrefix("/v1/models/") && path.count > "/v1/models/".count:
            return info.model(String(path.dropFirst("/v1/models/".count)).removingPercentEncodingIfValid)
        default:
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
        case "/v1/models", "/health": return "GET"
        default: return path.hasPrefix("/v1/models/") ? "GET" : nil
        }
    }
}

extension String {
    /// Percent-decoded (a model id in a path), or unchanged when the escapes are malformed.
    var removingPercentEncodingIfValid: String { removingPercentEncoding ?? self }
}
