// PrefixCache — KV caches of recent session-less requests, reused by later requests of the same
// principal (Unix user) and model that start with the same tokens (automatic prompt caching). Entries are the
// first thing dropped when the KV budget is full. Engine-thread only.
import GPT2Core

final class PrefixCache {
    private struct Entry {
        let owner: Principal
        let model: String
        let tokens: [Int32]
        let cache: KVCache
        var lastUsed: UInt64
    }

    /// Most entries kept (all models); the budget may drop them sooner.
    let capacity: Int
    /// Shortest shared prefix worth a fork (positions).
    let minimumReuse: Int
    private var entries: [Entry] = []
    private var clock: UInt64 = 0

    init(capacity: Int = 32, minimumReuse: Int = 8) {
        self.capacity = capacity
        self.minimumReuse = minimumReuse
    }

    var count: Int { entries.count }

    /// The longest usable cached prefix of `tokens` (at most `limit` positions): the cache holding
    /// it and its length, or nil when nothing reaches `minimumReuse`. Marks the entry used.
    func best(owner: Principal, model: String, tokens: [Int32], limit: Int) -> (cache: KVCache, length: Int)? {
        var best: (index: Int, length: Int)? = nil
        for (i, e) in entries.enumerated() where e.owner == owner && e.model == model {
            let n = min(PrefixCache.commonPrefix(e.tokens, tokens), limit, e.cache.count)
            if n >= minimumReuse && n > (best?.length ?? 0) { best = (i, n) }
        }
        guard let (i, n) = best else { return nil }
        clock += 1
        entries[i].lastUsed = clock
        return (entries[i].cache, n)
    }

    /// Keeps a finished request's cache (tokens = the positions it holds).
    func store(owner: Principal, model: String, tokens: [Int32], cache: KVCache) {
        guard tokens.count >= minimumReuse, cache.count == tokens.count else { return }
        // An entry whose tokens are a prefix of the new ones adds nothing.
        entries.removeAll { $0.owner == owner && $0.model == model && $0.tokens.count <= tokens.count
            && PrefixCache.commonPrefix($0.tokens, tokens) == $0.tokens.count }
        clock += 1
        entries.append(Entry(owner: owner, model: model, tokens: tokens, cache: cache, lastUsed: clock))
        if entries.count > capacity { _ = evictOne() }
    }

    /// Drops every entry whose cache is in `pool` (a model being unloaded); returns how many.
    @discardableResult
    func removeAll(pool: KVBlockPool) -> Int {
        let before = entries.count
        entries.removeAll { $0.cache.pool === pool }
        return before - entries.count
    }

    /// Drops the least recently used entry; false when empty.
    func evictOne() -> Bool {
        guard let i = entries.indices.min(by: { entries[$0].lastUsed < entries[$1].lastUsed }) else { return false }
        entries.remove(at: i)
        return true
    }

    static func commonPrefix(_ a: [Int32], _ b: [Int32]) -> Int {
        var n = 0
        let m = min(a.count, b.count)
        while n < m && a[n] == b[n] { n += 1 }
        return n
    }
}
