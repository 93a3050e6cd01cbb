// HTTPAnswer — what an endpoint answers, in the listener's terms, and what it runs with.
//
//   .json          one JSON body with its status (Content-Length known);
//   .text          a text body of the given Content-Type (GET /metrics);
//   .eventStream   server-sent events: the closure runs on the connection's task and calls `emit`
//                  once per event (its JSON becomes `data: <json>\n\n`); `data: [DONE]` follows when it
//                  returns. `emit` throws when the client is gone, and the closure then stops.
// Endpoints run on the connection's task (never the engine's compute thread): they submit to the
// engine, await its events through an AsyncStream, and map and encode them here.
import Foundation
import GPT2JSON
import NIOHTTP1

enum HTTPAnswer: Sendable {
    case json(HTTPResponseStatus, JSON)
    case text(HTTPResponseStatus, contentType: String, String)
    case eventStream(@Sendable (_ emit: @escaping @Sendable (JSON) async throws -> Void) async throws -> Void)

    static func error(_ e: OpenAIError) -> HTTPAnswer { .json(e.status, e.json) }

    var isStream: Bool { if case .eventStream = self { return true } else { return false } }

    /// The status the answer starts with (a stream's is 200).
    var status: HTTPResponseStatus {
        switch self {
        case .json(let s, _), .text(let s, _, _): return s
        case .eventStream: return .ok
        }
    }
}

/// One HTTP request as an endpoint sees it.
struct HTTPRequest: Sendable {
    var method: HTTPMethod
    /// The path without the query string.
    var path: String
    var body: [UInt8]
}

/// Who asks and what answers: the daemon's shared state (engine, JSON-lines router, serving state)
/// and the caller's identity (the connection's SO_PEERCRED principal).
struct HTTPContext: Sendable {
    let server: ServerState
    let client: ClientIdentity
    var engine: Engine { server.engine }
    var serving: ServingState { server.serving }
    /// Unix seconds the listener started (the models' `created`).
    let startedAt: Int

    /// The key of this connection's jobs (HTTP requests have no cancel id: a client cancels by closing).
    var jobKey: JobKey { JobKey(connection: client.connection, tag: nil) }

    /// The served model `name`, or OpenAI's 404 (503 `model_unavailable` while it loads or drains). A
    /// model keep_alive unloaded is loaded again first, and the request waits for that load as a
    /// JSON-lines `generate` does (`Engine.servingModel`; 503 if the load fails).
    func model(_ name: String) async throws(OpenAIError) -> ServedModel {
        do throws(EngineError) { return try await engine.servingModel(name) } catch {
            throw error.code == .unknownModel ? OpenAIError.unknownModel(name) : OpenAIError(error)
        }
    }

    /// Now, in Unix seconds (every response's `created`).
    static var now: Int { Int(Date().timeIntervalSince1970) }

    /// A response id: `prefix` + 24 random hex digits.
    static func responseID(_ prefix: String) -> String {
        prefix + String(format: "%016llx%08x", UInt64.random(in: 0...UInt64.max), UInt32.random(in: 0...UInt32.max))
    }
}
