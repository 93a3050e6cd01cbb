// SessionStore+Lifecycle — what users control about their sessions: names (open or create), forks,
// and the per-owner quota on stored tokens.
//
// Names: unique per owner across models (another owner's "chat" is another session; an owner's
// "chat" on another model is refused, not a second session). `session.open` with a name returns the
// owner's session of that name when there is one (`created: false`, nothing written) and creates it
// otherwise. The other fields of such an open (idle_timeout_s) are not applied to an existing session.
//
// Forks: a new session of the source's owner and model with a copy of its history; its KV cache is a
// fork of the source's (`KVCache.fork`: full blocks shared copy-on-write through the pool, the partly
// filled last block copied), so its first request computes only what the source had not cached. A
// busy source is refused (`sessionBusy`): its history is changing. The fork is under the store's
// lock; the source is idle, so no thread writes its cache meanwhile (a session's cache is written
// only by the request that leases it, and eviction and trimming take this lock).
//
// Quota: Σ over an owner's open sessions of their history lengths — a leased session counted at the
// length its running request may reach (`reservedTokens`: history + input + the most it may
// generate) — stays ≤ `maxSessionTokensPerUser`. A request or fork that would pass it is refused
// before anything is computed or changed (`quotaExceeded`). Restored sessions are loaded even when
// they are over it (as `max_sessions` is not applied at restore); they then cannot grow.
import Foundation

extension SessionStore {
    /// `session.open`: the owner's session named `name` (created: false) or a new one, and the write
    /// to wait for (nil: nothing to wait for). `idleTimeout`: seconds, ≤ the daemon's.
    func openOrCreate(model: String, owner: Principal, name: String? = nil, idleTimeout own: Double? = nil)
        throws(EngineError) -> (snapshot: SessionSnapshot, created: Bool, write: WriteTicket?) {
        guard models.current.contains(model) else { throw EngineError(.unknownModel, "no model named '\(model)'", field: "model") }
        if let own, !(own > 0 && own <= idleTimeout) {
            throw EngineError(.invalidField, "field 'idle_timeout_s': expected a number in (0, \(Self.seconds(idleTimeout))] (the daemon's session_idle_timeout_s), got \(Self.seconds(own))",
                              field: "idle_timeout_s")
        }
        lock.lock(); defer { lock.unlock() }
        if let name, let s = named(name, owner: owner) {
            guard s.model == model else {
                throw EngineError(.invalidField, "this user's session named '\(name)' (\(s.id)) is on model '\(s.model)', not '\(model)'", field: "name")
            }
            return (s.snapshot, false, s.creation.flatMap { $0.isDone ? nil : $0 })
        }
        try requireRoomForASession(of: owner)
        let s = Session(id: newID(), model: model, owner: owner, name: name, now: Self.now(), tick: Engine.now(),
                        ownTimeout: own, daemonTimeout: idleTimeout)
        sessions[s.id] = s
        s.creation = journal?.submit(.put(s.record))
        return (s.snapshot, true, s.creation)
    }

    /// `session.fork`: a new session (named `name`, if given) holding a copy of `id`'s history and a
    /// copy-on-write fork of its cache, and the ticket of its write.
    func forkWriting(_ id: String, owner: Principal, name: String? = nil) throws(EngineError) -> (snapshot: SessionSnapshot, write: WriteTicket?) {
        lock.lock(); defer { lock.unlock() }
        let source = try lookup(id, owner: owner)
        guard !source.busy else { throw EngineError(.sessionBusy, "session '\(id)' has a request running", field: "session") }
        if let name, let other = named(name, owner: owner) {
            throw EngineError(.invalidField, "this user already has a session named '\(name)' (\(other.id))", field: "name")
        }
        try requireRoomForASession(of: owner)
        try requireQuota(owner: owner, growth: source.tokens.count)
        let s = Session(id: newID(), model: source.model, owner: owner, name: name, now: Self.now(), tick: Engine.now(),
                        ownTimeout: source.ownTimeout, daemonTimeout: idleTimeout)
        s.tokens = source.tokens
        s.cache = source.cache.flatMap { $0.count > 0 ? $0.fork() : nil }  // nil: the budget had no block; recomputed on use
        s.kvBytes = s.cache?.allocatedBytes ?? 0
        sessions[s.id] = s
        s.creation = journal?.submit(.put(s.record))
        return (s.snapshot, s.creation)
    }

    /// session.fork's write failed: the new session is forgotten (its id was never given out).
    func forgetFailedFork(_ id: String) {
        lock.lock(); defer { lock.unlock() }
        if let s = sessions[id], !s.busy { sessions[id] = nil }
    }

    /// A leased session's request may take its history to `tokens`: refused (the session unchanged)
    /// when that would take its owner past the quota, else counted until the lease ends.
    func reserve(_ s: Session, tokens: Int) throws(EngineError) {
        lock.lock(); defer { lock.unlock() }
        try requireQuota(owner: s.owner, growth: max(0, tokens - s.quotaTokens))
        s.reservedTokens = tokens
    }

    /// `owner`'s open sessions summed, next to its quotas.
    func usage(owner: Principal) -> SessionUsage {
        lock.lock(); defer { lock.unlock() }
        var u = SessionUsage(sessions: 0, maxSessions: min(maxSessionsPerUser, maxSessions), tokens: 0, maxTokens: maxSessionTokensPerUser,
                             historyBytes: 0, kvBytes: 0)
        for s in sessions.owned(by: owner) {
            u.sessions += 1
            u.tokens += s.tokens.count
            u.kvBytes += s.kvBytes
        }
        u.historyBytes = u.tokens * 4
        return u
    }

    /// The owner's session named `name` (under the lock).
    func named(_ name: String, owner: Principal) -> Session? {
        sessions.owned(by: owner).first { $0.name == name }
    }

    /// Throws `quotaExceeded` when `growth` more tokens would take `owner` past its token quota (under the lock).
    private func requireQuota(owner: Principal, growth: Int) throws(EngineError) {
        let held = sessions.owned(by: owner).reduce(0) { $0 + $1.quotaTokens }
        guard held + growth <= maxSessionTokensPerUser else {
            throw EngineError(.quotaExceeded, "this user's sessions would hold \(held + growth) tokens, over the limit per user (max_session_tokens_per_user = \(maxSessionTokensPerUser)); close or shorten sessions first",
                              field: "session")
        }
    }

    /// "600", "0.5": seconds in messages.
    static func seconds(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
}
