// SessionStore — token histories owned by principals (Unix users, bearer-token principals), with KV
// caches that are only caches.
//
// A session is its token history. Its KVCache holds keys/values for a prefix of that history and
// may be dropped at any time while the session is idle (LRU under the KV budget); the next request
// recomputes what is missing. Thread-safe: the server thread reads it, the engine thread leases.
// The store is the only writer of a session's fields: a lease ends with `release(_:tokens:cache:)`,
// which records what the request left. Errors are `EngineError`s (mapped at the edge).
//
// With a journal (state_dir set, Persistence/), every change of a session — open, fork, a lease's
// end, close, expiry — is also submitted to the journal, under the store's lock (so the file sees the
// changes in the order memory did), and the change's WriteTicket is returned: a reply that
// acknowledges the change waits on it (SessionStore+Durability.swift). A session stays busy until
// its lease's write is done; a failed write puts the history back as it was before the lease.
// Names, forks and the per-user token quota: SessionStore+Lifecycle.swift.
import Foundation
import GPT2Core

public final class SessionStore: @unchecked Sendable {
    /// One session. Its mutable fields are written only by the store (this file and its extensions),
    /// under its lock; the lease holder reads `tokens` and `cache` (nobody else writes them while it is busy).
    final class Session {
        let id: String
        let model: String
        let owner: Principal
        /// Its owner's name for it (unique per owner), fixed at open or fork.
        let name: String?
        /// Wall-clock times (seconds since 1970), as `session.info` reports them.
        let createdAt: Double
        fileprivate(set) var lastUsedAt: Double
        /// The same moment as `lastUsedAt` on a clock that never jumps: what idle expiry and the LRU
        /// order read, so a wall-clock step (NTP, a suspended VM) neither expires nor reorders sessions.
        fileprivate(set) var lastUsedTick: Double
        /// The idle time-out asked for at open (stored; nil: the daemon's), and the one in force:
        /// that one bounded by the daemon's `session_idle_timeout_s`.
        let ownTimeout: Double?
        let idleTimeout: Double
        var busy = false
        /// Every token of the conversation so far (prompts and generated tokens).
        var tokens: [Int32] = []
        /// Keys/values of tokens[0..<cache.count]; nil after eviction.
        var cache: KVCache?
        /// `cache`'s allocated bytes, recorded whenever the store sets or trims it (read by snapshots
        /// without touching a cache the compute thread may be writing).
        var kvBytes = 0
        /// While leased: the history length the running request may reach (the token quota counts it).
        var reservedTokens = 0
        /// The write of its creation (open, fork): an open by name that finds it before that write is
        /// done waits on it too.
        var creation: WriteTicket?

        init(id: String, model: String, owner: Principal, name: String?, now: Double, tick: Double, ownTimeout: Double?, daemonTimeout: Double) {
            self.id = id; self.model = model; self.owner = owner; self.name = name
            createdAt = now; lastUsedAt = now; lastUsedTick = tick
            self.ownTimeout = ownTimeout
            idleTimeout = min(ownTimeout ?? daemonTimeout, daemonTimeout)
        }

        /// A session read back from the state database (`tick`: its last use on the Engine.now() clock).
        init(record r: SessionRecord, tick: Double, daemonTimeout: Double) {
            id = r.id; model = r.model; owner = r.owner; name = r.name; createdAt = r.createdAt
            lastUsedAt = r.lastUsedAt; lastUsedTick = tick; tokens = r.tokens
            ownTimeout = r.idleTimeout
            idleTimeout = min(r.idleTimeout ?? daemonTimeout, daemonTimeout)
        }

        /// The row the state database keeps of it (every principal's: owners are stored by key).
        var record: SessionRecord {
            SessionRecord(id: id, owner: owner, name: name, model: model, createdAt: createdAt, lastUsedAt: lastUsedAt,
                          idleTimeout: ownTimeout, tokens: tokens)
        }

        /// The history length the token quota counts for it.
        var quotaTokens: Int { max(tokens.count, reservedTokens) }

        var snapshot: SessionSnapshot {
            SessionSnapshot(id: id, model: model, tokenCount: tokens.count, busy: busy, createdAt: createdAt, lastUsedAt: lastUsedAt,
                            name: name, kvBytes: kvBytes, idleTimeout: idleTimeout)
        }

        /// Marks it used now (both clocks).
        func touch() {
            lastUsedAt = SessionStore.now()
            lastUsedTick = Engine.now()
        }
    }

    let lock = NSLock()
    var sessions = SessionTable()
    /// Where changes are written before they are acknowledged; nil: persistence off (state_dir none).
    let journal: SessionJournal?
    /// The models a session may be opened on (the engine's serving models; they change at run time).
    let models: Locked<Set<String>>
    let maxSessions: Int
    /// Most open sessions of one owner (so one user cannot take every slot of `maxSessions`).
    let maxSessionsPerUser: Int
    /// Most tokens in the histories of one owner's open sessions (SessionStore+Lifecycle.swift).
    let maxSessionTokensPerUser: Int
    /// The daemon's idle time-out (seconds), also the bound of every session's own.
    let idleTimeout: Double

    init(models: Set<String>, maxSessions: Int, maxSessionsPerUser: Int = .max, maxSessionTokensPerUser: Int = .max,
         idleTimeout: Double, journal: SessionJournal? = nil) {
        self.models = Locked(models); self.maxSessions = maxSessions; self.maxSessionsPerUser = maxSessionsPerUser
        self.maxSessionTokensPerUser = maxSessionTokensPerUser
        self.idleTimeout = idleTimeout
        self.journal = journal
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return sessions.count }

    /// Open sessions of `owner`.
    public func count(owner: Principal) -> Int {
        lock.lock(); defer { lock.unlock() }
        return sessions.owned(by: owner).count
    }

    public func open(model: String, owner: Principal) throws(EngineError) -> SessionSnapshot {
        try openWriting(model: model, owner: owner).snapshot
    }

    /// `open` of an unnamed session, and the ticket of its write (nil without a journal).
    func openWriting(model: String, owner: Principal) throws(EngineError) -> (snapshot: SessionSnapshot, write: WriteTicket?) {
        let opened = try openOrCreate(model: model, owner: owner)
        return (opened.snapshot, opened.write)
    }

    /// The checks every new session passes (under the lock): the daemon's and the owner's session counts.
    func requireRoomForASession(of owner: Principal) throws(EngineError) {
        guard sessions.count < maxSessions else {
            throw EngineError(.overloaded, "too many open sessions (\(maxSessions)); close some first")
        }
        let own = sessions.owned(by: owner).count
        guard own < maxSessionsPerUser else {
            throw EngineError(.overloaded, "this user has \(own) open sessions, the limit per user (max_sessions_per_user = \(maxSessionsPerUser)); close some first")
        }
    }

    /// A fresh session id (under the lock).
    func newID() -> String {
        var id: String
        repeat { id = "s-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) } while sessions[id] != nil
        return id
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
        s.kvBytes = 0
        return (s, journal?.submit(.delete(id)))
    }

    public func list(owner: Principal) -> [SessionSnapshot] {
        lock.lock(); defer { lock.unlock() }
        return sessions.owned(by: owner).sorted { $0.createdAt < $1.createdAt }.map(\.snapshot)
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
        s.kvBytes = cache?.allocatedBytes ?? 0
        s.reservedTokens = 0
        s.touch()
        guard let journal else {
            s.busy = false
            lock.unlock()
            return nil
        }
        let write = journal.submit(.put(s.record))
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
        for s in sessions.owned(by: owner) where s.model == model && !s.busy {
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
        v.kvBytes = 0
        return true
    }

    /// Closes sessions idle for longer than their time-outs (`now` on the `Engine.now()` clock) and
    /// deletes their rows. Returns how many.
    @discardableResult
    func expireIdle(now: Double = Engine.now()) -> Int {
        lock.lock(); defer { lock.unlock() }
        let old = sessions.values.filter { !$0.busy && now - $0.lastUsedTick > $0.idleTimeout }
        for s in old {
            sessions[s.id] = nil
            _ = journal?.submit(.delete(s.id))  // nobody waits: a failed delete is expired again at the next start
        }
        return old.count
    }

    /// The session `id` if `owner` owns it (under the lock).
    func lookup(_ id: String, owner: Principal) throws(EngineError) -> Session {
        guard let s = sessions[id] else { throw EngineError(.unknownSession, "no session '\(id)'", field: "session") }
        guard s.owner == owner else {
            throw EngineError(.sessionForbidden, "session '\(id)' belongs to another user", field: "session")
        }
        return s
    }

    /// The engine's serving models changed (models.load / models.unload, SIGHUP).
    func setServedModels(_ names: Set<String>) { models.withLock { $0 = names } }

    /// Drops the KV caches in `pool` of idle sessions (their model is being unloaded: the history stays
    /// and is recomputed when a model of that name serves again). Returns how many were dropped.
    @discardableResult
    func dropCaches(pool: KVBlockPool) -> Int {
        lock.lock(); defer { lock.unlock() }
        let victims = sessions.values.filter { !$0.busy && $0.cache?.pool === pool }
        for s in victims { s.cache = nil }
        return victims.count
    }
}
