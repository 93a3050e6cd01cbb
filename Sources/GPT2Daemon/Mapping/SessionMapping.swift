// SessionMapping — the session store's snapshot becomes the wire's session object.
import GPT2Wire

extension SessionInfo {
    init(_ s: SessionSnapshot) {
        self.init(session: s.id, model: s.model, nTokens: s.tokenCount, busy: s.busy, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt)
    }
}
