// SessionMapping — the session store's snapshots become the wire's session object (`created` is set
// by session.open's and session.fork's handlers), a principal's usage the list's totals.
import GPT2Wire

extension SessionInfo {
    init(_ s: SessionSnapshot, created: Bool? = nil) {
        self.init(session: s.id, model: s.model, nTokens: s.tokenCount, busy: s.busy, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt,
                  name: s.name, bytes: s.historyBytes, kvBytes: s.kvBytes, idleTimeoutSeconds: s.idleTimeout, created: created)
    }
}

extension SessionTotals {
    init(_ u: SessionUsage) {
        self.init(sessions: u.sessions, maxSessions: u.maxSessions, nTokens: u.tokens, maxTokens: u.maxTokens,
                  bytes: u.historyBytes, kvBytes: u.kvBytes)
    }
}
