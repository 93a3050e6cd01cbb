// SessionStore — named token histories, owned by principals (today Unix users), with KV caches that
// are only caches.
//
// A session is its token history. Its KVCache holds keys/values for a prefix of that history and
// may be dropped at any time while the session is idle (LRU under the KV budget); the next request
// recomputes what is missing. Thread-safe: the server thread reads it, the engine thread leases.
// The store is the only writer of a session's fields: a lease ends with `release(_:tokens:cache:)`,
// which records what the request left. Errors are `EngineError`s (mapped at the edge).
//
// With a journal (state_dir set, Persistence/), every change of a session — open, a lease's end,
// close, expiry — is also submitted to the journal, under the store's lock (so the file sees the
// changes in the order memory did), and the change's WriteTicket is returned: a reply that
// acknowledges the change waits on it (SessionStore+Durability.swift). A session stays busy until
// its lease's write is done; a failed write puts the history back as it was before the lease.
import Foundation
import GPT2Core

public final class SessionStore: @unchecked Sendable {
    /// One session. Its mutable fields are written only by the store (this file and
    /// SessionStore+Durability.swift), under its lock; the lease
    /// holder reads `tokens` and `cache` (nobody else writes them while it is busy).
    final class Session {
        let id: String
        let model: String
        let owner: Principal
        /// Wall-clock times (seconds since 1970), as `session.info` reports them.
        let createdAt: Double
        fileprivate(set) var lastUsedAt: Double
        /// The same moment as `lastUsedAt` on a clock that never jumps: what idle expiry and the LRU
        /// order read, so a wall-clock step (NTP, a suspended VM) neither expires nor reorders sessions.
        fileprivate(set) var lastUsedTick: Double
        var busy = false
        /// Every token of the conversation so far (prompts and generated tokens).
        var tokens: [Int32] = []
        /// Keys/values of tokens[0..<cache.count]; nil after eviction.
        var cache: KVCache?

        init(id: String, model: String, owner: Principal, now: Double, tick: Double) {
            self.id = id; self.model = model; self.owner = owner; createdAt = now; lastUsedAt = now; lastUsedTick = tick
        }

        /// A session read back from the state database (`tick`: its last use on the Engine.now() clock).
        init(record r: SessionRecord, tick: Double) {
            id = r.id; model = r.model; owner = .unixUser(uid: r.ownerUID); createdAt = r.createdAt
            lastUsedAt = r.lastUsedAt; lastUsedTick = tick; tokens = r.tokens
        }

        /// The row the state database keeps of it; nil for a bearer-token principal's session, which
        /// lives in memory only (the schema keys owners by uid; HTTP.md says so).
        var record: SessionRecord? {
            switch owner {
            case .unixUser(let uid):
                return SessionRecord(id: id, ownerUID: uid, model: model, createdAt: createdAt, lastUsedAt: lastUsedAt, tokens: tokens)
            case .token:
                return nil
            }
        }

        var snapshot: SessionSnapshot {
            SessionSnapshot(id: id, model: model, tokenCount: tokens.count, busy: busy, createdAt: createdAt, lastUsedAt: lastUsedAt)
        }
    }

    let lock = NSLock()
    var sessions: [String: Session] = [:]
    /// Where changes are written before they are acknowledged; nil: persistence off (state_dir none).
    let journal: SessionJournal?
    private let models: Set<String>
    private let maxSessions: Int
    /// Most open sessions of one owner (so one user cannot take every slot of `maxSessions`).
    private let maxSessionsPerUser: Int
    let idleTimeout: Double

    init(models: Set<String>, maxSessions: Int, maxSessionsPerUser: Int = .max, idleTimeout: Double, journal: SessionJournal? = nil) {
        self.models = models; self.maxSessions = maxSessions; self.maxSessionsPerUser = maxSessionsPerUser
        self.idleTimeout = idleTimeout
        self.journal = journal
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return sessions.count }

    /// Open sessions of `owner`.
    public func count(owner: Principal) -> Int {
        lock.lock(); defer { lock.unlock() }
        return sessions.values.reduce(0) { $0 + ($1.owner == owner ? 1 : 0) }
    }

    public func open(model: String, owner: Principal) throws(EngineError) -> SessionSnapshot {
        try openWriting(model: model, owner: owner).snapshot
    }

    /// `open`, and the ticket of its write (nil without a journal).
    func openWriting(model: String, owner: Principal) throws(EngineError) -> (snapshot: SessionSnapshot, write: WriteTicket?) {
        guard models.contains(model) else { throw EngineError(.unknownModel, "no model named '\(model)'", field: "model") }
        lock.lock(); defer { lock.unlock() }
        guard sessions.count < maxSessions else {
            throw EngineError(.overloaded, "too many open sessions (\(maxSessions)); close some first")
        }
        let own = sessions.values.reduce(0) { $0 + ($1.owner == owner ? 1 : 0) }
        guard own < maxSessionsPerUser else {
            throw EngineError(.overloaded, "this user has \(own) open sessions, the limit per user (max_sessions_per_user = \(maxSessionsPerUser)); close some first")
        }
        var id: String
        repeat { id = "s-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) } while sessions[id] != nil
        let s = Session(id: id, model: model, owner: owner, now: Self.now(), tick: Engine.now())
        sessions[id] = s
        return (s.snapshot, s.record.flatMap { journal?.submit(.put($0)) })
    }

    public func close(_ id: String, owner: Principal) throws(EngineError) -> SessionSnapshot {
        try closeWriting(id, owner: owner).session.snapshot
    }

    /// `close`: the closed session, and the ticket of its write (nil without a journal).
    func closeWriting(_ id: String, owner: Principal) throws(EngineError) -> (session: Session, write: WriteTicket?) {
        lock.lock(); defer { lock.unlock() }
        let s = try lookup(id, owner: owner)
        guard !s.busy else { throw EngineError(.sessionBusy, "session '\(id)' has a request running", field: "session") }
        sessions[id] = nil
        s.cache = nil
        return (s, s.record == nil ? nil : journal?.submit(.delete(id)))
    }

    public func list(owner: Principal) -> [SessionSnapshot] {
        lock.lock(); defer { lock.unlock() }
        return sessions.values.filter { $0.owner == owner }.sorted { $0.createdAt < $1.createdAt }.map(\.snapshot)
    }

    public func info(_ id: String, owner: Principal) throws(EngineError) -> SessionSnapshot {
        lock.lock(); defer { lock.unlock() }
        return try lookup(id, owner: owner).snapshot
    }

    /// Marks a session busy for one request and hands it over.
    func acquire(_ id: String, owner: Principal, model: String) throws(EngineError) -> Session {
        lock.lock(); defer { lock.unlock() }
        let s = try lookup(id, owner: owner)
        guard s.model == model else {
            throw EngineError(.invalidField, "session '\(id)' belongs to model '\(s.model)', not '\(model)'", field: "session")
        }
        guard !s.busy else { throw EngineError(.sessionBusy, "session '\(id)' has a request running", field: "session") }
        s.busy = true
        return s
    }

    /// Ends a lease: the session keeps `tokens` (everything the client has seen) and `cache` (keys
    /// and values of a prefix of them, or nil) and becomes idle (and evictable) again — with a
    /// journal, once the write is done (a failed write restores the history before the lease).
    /// Returns the write's ticket (nil without a journal).
    @discardableResult
    func release(_ s: Session, tokens: [Int32], cache: KVCache?) -> WriteTicket? {
        lock.lock()
        let before = s.tokens
        s.tokens = tokens
        s.cache = cache
        s.lastUsedAt = Self.now()
        s.lastUsedTick = Engine.now()
        guard let journal, let record = s.record else {
            s.busy = false
            lock.unlock()
            return nil
        }
        let write = journal.submit(.put(record))
        lock.unlock()
        // Registered before anyone else can wait on the ticket: the session is idle (or restored)
        // before a reply that waits on the same ticket goes out.
        write.whenDone { [self] failure in settle(s, failure: failure, before: before) }
        return write
    }

    /// The idle session of `owner` on `model` whose cached history shares the longest prefix with
    /// `tokens` (at most `limit` positions): its cache and that length. For automatic prompt caching:
    /// a session-less request may start from a fork of it (the session itself is not touched).
    func bestIdlePrefix(owner: Principal, model: String, tokens: [Int32], limit: Int) -> (cache: KVCache, length: Int)? {
        lock.lock(); defer { lock.unlock() }
        var best: (cache: KVCache, length: Int)? = nil
        for s in sessions.values where s.owner == owner && s.model == model && !s.busy {
            guard let c = s.cache else { continue }
            let n = min(PrefixCache.commonPrefix(s.tokens, tokens), limit, c.count)
            if n > (best?.length ?? 0) { best = (c, n) }
        }
        return best
    }

    /// Idle sessions whose caches hold KV memory (what `evictOneCache` may drop).
    private var evictable: [Session] { sessions.values.filter { !$0.busy && $0.cache != nil && $0.cache!.allocatedBytes > 0 } }

    /// True when `evictOneCache` would drop something.
    var hasEvictableCache: Bool { lock.lock(); defer { lock.unlock() }; return !evictable.isEmpty }

    /// Drops the KV cache of the least recently used idle session that has one. Returns false when none.
    func evictOneCache() -> Bool {
        lock.lock(); defer { lock.unlock() }
        let victim = evictable.min { $0.lastUsedTick < $1.lastUsedTick }
        guard let v = victim else { return false }
        v.cache = nil
        return true
    }

    /// Closes sessions idle for longer than the time-out (`now` on the `Engine.now()` clock). Returns how many.
    @discardableResult
    func expireIdle(now: Double = Engine.now()) -> Int {
        lock.lock(); defer { lock.unlock() }
        let old = sessions.values.filter { !$0.busy && now - $0.lastUsedTick > idleTimeout }
        for s in old {
            sessions[s.id] = nil
            _ = journal?.submit(.delete(s.id))  // nobody waits: a failed delete is expired again at the next start
        }
        return old.count
    }

    private func lookup(_ id: String, owner: Principal) throws(EngineError) -> Session {
        guard let s = sessions[id] else { throw EngineError(.unknownSession, "no session '\(id)'", field: "session") }
        guard s.owner == owner else {
            throw EngineError(.sessionForbidden, "session '\(id)' belongs to another user", field: "session")
        }
        return s
    }
}
