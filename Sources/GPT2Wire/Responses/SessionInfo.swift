// session.open / session.info result, and the element of session.list.

import GPT2JSON

public struct SessionInfo: WireResponse {
    /// Opaque session id (assigned by the daemon).
    public var session: String
    public var model: String
    /// Tokens held in the session's KV cache.
    public var nTokens: Int
    /// True while a request uses the session.
    public var busy: Bool
    /// Unix time, seconds.
    public var createdAt: Double
    /// Unix time, seconds, of the last request that used it (evictions pick the oldest).
    public var lastUsedAt: Double

    public init(session: String, model: String, nTokens: Int = 0, busy: Bool = false, createdAt: Double, lastUsedAt: Double) {
        self.session = session
        self.model = model
        self.nTokens = nTokens
        self.busy = busy
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        session = try r.string("session")
        model = try r.string("model")
        nTokens = try r.int("n_tokens")
        busy = try r.bool("busy")
        createdAt = try r.double("created_at")
        lastUsedAt = try r.double("last_used_at")
    }

    public func json() -> JSONObject {
        ["session": .string(session), "model": .string(model), "n_tokens": .int(Int64(nTokens)),
         "busy": .bool(busy), "created_at": .double(createdAt), "last_used_at": .double(lastUsedAt)]
    }
}
