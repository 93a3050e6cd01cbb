// SessionStore + KVSnapshots — what the KV snapshots (KVSnapshots.swift) read from and give back to
// the store: the idle sessions whose caches are worth saving (at shutdown, after the compute thread
// has stopped), the restored sessions' histories (at start, before anything is served), and a
// snapshot's cache adopted by its session.
import GPT2Core

extension SessionStore {
    /// An idle session's cache as a snapshot would hold it: positions 0..<tokens.count of `cache`.
    struct CachedHistory {
        let id: String
        let model: String
        let tokens: ArraySlice<Int32>
        let cache: KVCache
        let lastUsedAt: Double
    }

    /// Idle sessions whose caches hold at least `minimumPositions` positions of their history, most
    /// recently used first. The caches are shared, not copied: only safe while no request computes.
    func cachedHistories(minimumPositions: Int) -> [CachedHistory] {
        lock.lock(); defer { lock.unlock() }
        var out: [CachedHistory] = []
        for s in sessions.values where !s.busy {
            guard let c = s.cache else { continue }
            let n = min(c.count, s.tokens.count)
            if n >= minimumPositions, n > 0 {
                out.append(CachedHistory(id: s.id, model: s.model, tokens: s.tokens[0..<n], cache: c, lastUsedAt: s.lastUsedAt))
            }
        }
        return out.sorted { $0.lastUsedAt > $1.lastUsedAt }
    }

    /// A session's model and history (nil when there is no such session).
    func history(of id: String) -> (model: String, tokens: [Int32], lastUsedAt: Double)? {
        lock.lock(); defer { lock.unlock() }
        return sessions[id].map { ($0.model, $0.tokens, $0.lastUsedAt) }
    }

    /// Gives session `id` `cache` (a restored snapshot of a prefix of its history) when it is idle and
    /// has none yet; false otherwise (the cache is then dropped by the caller).
    func adoptRestoredCache(_ cache: KVCache, for id: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let s = sessions[id], !s.busy, s.cache == nil, cache.count <= s.tokens.count else { return false }
        s.cache = cache
        s.kvBytes = cache.allocatedBytes
        return true
    }
}
