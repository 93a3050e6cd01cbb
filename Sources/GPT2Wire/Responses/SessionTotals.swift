// The caller's totals over its open sessions next to its quotas (session.list's `totals`).

import GPT2JSON

public struct SessionTotals: WireObject {
    /// Open sessions, and the most one user may have (max_sessions_per_user).
    public var sessions: Int
    public var maxSessions: Int
    /// Tokens in their histories, and the most one user's sessions may hold (max_session_tokens_per_user).
    public var nTokens: Int
    public var maxTokens: Int
    /// Stored history bytes and KV-cache bytes held, summed as in each session object.
    public var bytes: Int
    public var kvBytes: Int

    public static let wireDefaults = SessionTotals(sessions: 0, maxSessions: 0, nTokens: 0, maxTokens: 0, bytes: 0, kvBytes: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("sessions", \.sessions, .int(0...Int.max)),
        .required("max_sessions_per_user", \.maxSessions, .int(0...Int.max)),
        .required("n_tokens", \.nTokens, .int(0...Int.max)),
        .required("max_session_tokens_per_user", \.maxTokens, .int(0...Int.max)),
        .required("bytes", \.bytes, .int(0...Int.max)),
        .required("kv_bytes", \.kvBytes, .int(0...Int.max)),
    ]

    public init(sessions: Int, maxSessions: Int, nTokens: Int, maxTokens: Int, bytes: Int, kvBytes: Int) {
        self.sessions = sessions; self.maxSessions = maxSessions; self.nTokens = nTokens; self.maxTokens = maxTokens
        self.bytes = bytes; self.kvBytes = kvBytes
    }
}
