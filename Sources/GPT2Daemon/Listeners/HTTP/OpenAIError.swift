// OpenAIError — an HTTP error answer in OpenAI's shape: the status and
// `{"error":{"message","type","param","code"}}`. Engine errors map to it here (the same message; the
// engine's field name translated to the OpenAI parameter it came from, e.g. max_new_tokens → max_tokens).
import GPT2JSON
import NIOHTTP1

struct OpenAIError: Error, Sendable, Equatable {
    var status: HTTPResponseStatus
    var message: String
    /// OpenAI's error type: invalid_request_error, not_found_error, server_error, …
    var type: String
    /// The request parameter at fault, by its OpenAI name.
    var param: String?
    /// A stable machine-readable code (model_not_found, context_length_exceeded, …).
    var code: String?

    init(_ status: HTTPResponseStatus, _ message: String, type: String = "invalid_request_error",
         param: String? = nil, code: String? = nil) {
        self.status = status; self.message = message; self.type = type; self.param = param; self.code = code
    }

    /// 400: a field is missing, of the wrong type or out of range.
    static func invalid(_ message: String, param: String?, code: String? = nil) -> OpenAIError {
        OpenAIError(.badRequest, message, param: param, code: code)
    }

    /// 404 for a model no one serves (OpenAI's answer to an unknown model).
    static func unknownModel(_ name: String) -> OpenAIError {
        OpenAIError(.notFound, "The model '\(name)' does not exist", param: "model", code: "model_not_found")
    }

    /// The error object as sent (also as one SSE `data:` event when a stream fails midway).
    var json: JSON {
        .object(["error": .object([
            "message": .string(message), "type": .string(type),
            "param": param.map(JSON.string) ?? .null, "code": code.map(JSON.string) ?? .null,
        ])])
    }

    /// OpenAI parameter names of the engine's field names (the JSON-lines protocol's spelling).
    static let paramNames: [String: String] = [
        "max_new_tokens": "max_tokens", "min_new_tokens": "min_tokens", "num_return_sequences": "n",
        "top_logprobs": "logprobs", "input": "prompt", "tokens": "prompt", "text": "prompt",
    ]

    /// An engine error: same message; status and type by its code.
    init(_ e: EngineError) {
        let param = e.field.map { Self.paramNames[$0] ?? $0 }
        switch e.code {
        case .invalidField:
            self.init(.badRequest, e.message, param: param, code: "invalid_value")
        case .unknownModel:
            self.init(.notFound, e.message, param: "model", code: "model_not_found")
        case .contextOverflow:
            self.init(.badRequest, e.message, param: param ?? "prompt", code: "context_length_exceeded")
        case .unsupportedTask:
            self.init(.badRequest, e.message, param: "model", code: "unsupported_task")
        case .tooLarge:
            self.init(.payloadTooLarge, e.message, param: param, code: "too_large")
        case .unknownSession, .sessionForbidden, .sessionBusy:
            self.init(.badRequest, e.message, param: param, code: "session_error")
        case .overloaded:
            self.init(.tooManyRequests, e.message, type: "server_error", code: "overloaded")
        case .quotaExceeded:
            self.init(.tooManyRequests, e.message, param: param, code: "quota_exceeded")
        case .shuttingDown:
            self.init(.serviceUnavailable, e.message, type: "server_error", code: "shutting_down")
        case .modelUnavailable:
            self.init(.serviceUnavailable, e.message, type: "server_error", code: "model_unavailable")
        case .cancelled:
            self.init(.serviceUnavailable, e.message, type: "server_error", code: "cancelled")
        case .storageUnavailable:
            self.init(.serviceUnavailable, e.message, type: "server_error", code: "storage_unavailable")
        case .modelExists:
            self.init(.conflict, e.message, param: param, code: "model_exists")
        case .modelLoadFailed:
            self.init(.badRequest, e.message, param: param, code: "model_load_failed")
        case .internalError:
            self.init(.internalServerError, e.message, type: "server_error", code: "internal_error")
        }
    }
}
