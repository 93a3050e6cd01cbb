// session.open / session.fork / session.info result, and the element of session.list.
// The fields after `last_used_at` are optional on the wire so a client still reads an older daemon's
// answer; gpt2d sends `bytes`, `kv_bytes` and `idle_timeout_s` always, `name` when the session has
// one, `created` in session.open's and session.fork's results only.

import GPT2JSON

public struct SessionInfo: WireResponse {
    /// Opaque session id (assigned by the daemon).
    public var session: String
    public var model: String
    /// Tokens in the session's history.
    public var nTokens: Int
    /// True while a request uses the session.
    public var busy: Bool
    /// Unix time, seconds.
    public var createdAt: Double
    /// Unix time, seconds, of the last request that used it (evictions pick the oldest).
    public var lastUsedAt: Double
    /// Its owner's name for it (session.open / session.fork `name`).
    public var name: String?
    /// Bytes of its stored history (4 per token).
    public var bytes: Int?
    /// Bytes of KV-cache blocks it holds now (0 when its cache was dropped; blocks shared with a
    /// fork are counted in each).
    public var kvBytes: Int?
    /// Seconds unused before it is closed.
    public var idleTimeoutSeconds: Double?
    /// session.open / session.fork: true when this request made it, false when `name` found it.
    public var created: Bool?

    public static let wireDefaults = SessionInfo(session: "", model: "", createdAt: 0, lastUsedAt: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("session", \.session, .string),
        .required("model", \.model, .string),
        .required("n_tokens", \.nTokens, .int()),
        .required("busy", \.busy, .bool),
        .required("created_at", \.createdAt, .number()),
        .required("last_used_at", \.lastUsedAt, .number()),
        .optional("name", \.name, .string),
        .optional("bytes", \.bytes, .int(0...Int.max)),
        .optional("kv_bytes", \.kvBytes, .int(0...Int.max)),
        .optional("idle_timeout_s", \.idleTimeoutSeconds, .number()),
        .optional("created", \.created, .bool),
    ]

    public init(session: String, model: String, nTokens: Int = 0, busy: Bool = false, createdAt: Double, lastUsedAt: Double,
                name: String? = nil, bytes: Int? = nil, kvBytes: Int? = nil, idleTimeoutSeconds: Double? = nil, created: Bool? = nil) {
        self.session = session
        self.model = model
        self.nTokens = nTokens
        self.busy = busy
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.name = name
        self.bytes = bytes
        self.kvBytes = kvBytes
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.created = created
    }
}
