// SessionStore — named token histories, owned by Unix users, with KV caches that are only caches.
//
// A session is its token history. Its KVCache holds keys/values for a prefix of that history and
// may be dropped at any time while the session is idle (LRU under the KV budget); the next request
// recomputes what is missing. Thread-safe: the server thread reads it, the engine thread leases.
import Foundation
import GPT2Core
import GPT2Wire

public final class SessionStore: @unchecked Sendable {
    /// One session. Mutable fields are guarded by the store's lock, or owned by the lease holder.
    final class Session {
        let id: String
        let model: String
        let owner: UInt32
        let createdAt: Double
        var lastUsedAt: Double
        var busy = false
        /// Every token of the conversation so far (prompts and generated tokens).
        var tokens: [Int32] = []
        /// Keys/values of tokens[0..<cache.count]; nil after eviction.
        var cache: KVCache?

        init(id: String, model: String, owner: UInt32, now: Double) {
            self.id = id; self.model = model; self.owner = owner; createdAt = now; lastUsedAt = now
        }

        var info: SessionInfo {
            SessionInfo(session: id, model: model, nTokens: tokens.count, busy: busy, createdAt: createdAt, lastUsedAt: lastUsedAt)
        }
    }

    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private let models: Set<String>
    private let maxSessions: Int
    let idleTimeout: Double

    init(models: Set<String>, maxSessions: Int, idleTimeout: Double) {
        self.models = models; self.maxSessions = maxSessions; self.idleTimeout = idleTimeout
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return sessions.count }

    public func open(model: String, owner: UInt32) throws(WireError) -> SessionInfo {
        guard models.contains(model) else { throw WireError(.unknownModel, "no model named '\(model)'", field: "model") }
        lock.lock(); defer { lock.unlock() }
        guard sessions.count < maxSessions else {
            throw WireError(.overloaded, "too many open sessions (\(maxSessions)); close some first")
        }
        var id: String
        repeat { id = "s-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) } while sessions[id] != nil
        let s = Session(id: id, model: model, owner: owner, now: Self.now())
        sessions[id] = s
        return s.info
    }

    public func close(_ id: String, owner: UInt32) throws(WireError) -> SessionInfo {
        lock.lock(); defer { lock.unlock() }
        let s = try lookup(id, owner: owner)
        guard !s.busy else { throw WireError(.sessionBusy, "session '\(id)' has a request running", field: "session") }
        sessions[id] = nil
        s.cache = nil
        return s.info
    }

    public func list(owner: UInt32) -> [SessionInfo] {
        lock.lock(); defer { lock.unlock() }
        return sessions.values.filter { $0.owner == owner }.sorted { $0.createdAt < $1.createdAt }.map(\.info)
    }

    public func info(_ id: String, owner: UInt32) throws(WireError) -> SessionInfo {
        lock.lock(); defer { lock.unlock() }
        return try lookup(id, owner: owner).info
    }

    /// Marks a session busy for one request and hands it over.
    func acquire(_ id: String, owner: UInt32, model: String) throws(WireError) -> Session {
        lock.lock(); defer { lock.unlock() }
        let s = try lookup(id, owner: owner)
        guard s.model == model else {
            throw WireError(.invalidField, "session '\(id)' belongs to model '\(s.model)', not '\(model)'", field: "session")
        }
        guard !s.busy else { throw WireError(.sessionBusy, "session '\(id)' has a request running", field: "session") }
        s.busy = true
        return s
    }

    /// Ends a lease: the session becomes idle (and evictable) again.
    func release(_ s: Session) {
        lock.lock(); s.busy = false; s.lastUsedAt = Self.now(); lock.unlock()
    }

    /// The idle session of `owner` on `model` whose cached history shares the longest prefix with
    /// `tokens` (at most `limit` positions): its cache and that length. For automatic prompt caching:
    /// a session-less request may start from a fork of it (the session itself is not touched).
    func bestIdlePrefix(owner: UInt32, model: String, tokens: [Int32], limit: Int) -> (cache: KVCache, length: Int)? {
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
        let victim = evictable.min { $0.lastUsedAt < $1.lastUsedAt }
        guard let v = victim else { return false }
        v.cache = nil
        return true
    }

    /// Closes sessions idle for longer than the time-out. Returns how many.
    @discardableResult
    func expireIdle(now: Double = SessionStore.now()) -> Int {
        lock.lock(); defer { lock.unlock() }
        let old = sessions.values.filter { !$0.busy && now - $0.lastUsedAt > idleTimeout }
        for s in old { sessions[s.id] = nil }
        return old.count
    }

    private func lookup(_ id: String, owner: UInt32) throws(WireError) -> Session {
        guard let s = sessions[id] else { throw WireError(.unknownSession, "no session '\(id)'", field: "session") }
        guard s.owner == owner else {
            throw WireError(.sessionForbidden, "session '\(id)' belongs to another user", field: "session")
        }
        return s
    }
}
