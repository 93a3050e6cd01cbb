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

    public static let wireDefaults = SessionInfo(session: "", model: "", createdAt: 0, lastUsedAt: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("session", \.session, .string),
        .required("model", \.model, .string),
        .required("n_tokens", \.nTokens, .int()),
        .required("busy", \.busy, .bool),
        .required("created_at", \.createdAt, .number()),
        .required("last_used_at", \.lastUsedAt, .number()),
    ]

    public init(session: String, model: String, nTokens: Int = 0, busy: Bool = false, createdAt: Double, lastUsedAt: Double) {
        self.session = session
        self.model = model
        self.nTokens = nTokens
        self.busy = busy
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}
