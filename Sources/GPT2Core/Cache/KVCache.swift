// KVCache — the keys and values of one sequence, in blocks from a KVBlockPool.
//
// Position p of layer l lives in block p / B at row p % B (B = pool.blockTokens):
//   keys   (l, p) = block.data + ((l·2 + 0)·B + p % B)·C
//   values (l, p) = block.data + ((l·2 + 1)·B + p % B)·C
// A cache is only a cache: its owner (a session) can always drop it and recompute from tokens.
// Not thread-safe: one sequence is computed by one forward call at a time.

public final class KVCache: @unchecked Sendable {
    public let pool: KVBlockPool
    /// Positions whose keys and values are stored (= the next position to compute).
    public internal(set) var count: Int = 0
    var blocks: [KVBlock] = []

    public init(pool: KVBlockPool) { self.pool = pool }

    /// Positions the allocated blocks can hold.
    public var capacity: Int { blocks.count * pool.blockTokens }
    /// Bytes held by this cache.
    public var allocatedBytes: Int { blocks.count * pool.bytesPerBlock }

    /// Makes room for `positions` positions; on failure allocates nothing and returns false.
    func reserve(positions: Int) -> Bool {
        let needed = (positions + pool.blockTokens - 1) / pool.blockTokens
        if needed <= blocks.count { return true }
        var fresh: [KVBlock] = []
        for _ in blocks.count..<needed {
            guard let b = pool.allocate() else { return false }  // `fresh` frees its blocks on return
            fresh.append(b)
        }
        blocks.append(contentsOf: fresh)
        return true
    }

    /// Keeps the first `n` positions and frees blocks no longer needed (n ≤ count).
    public func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "truncate(to: \(n)) outside 0...\(count)")
        count = n
        releaseUnused()
    }

    /// Drops everything; the next forward recomputes from position 0.
    public func reset() { count = 0; blocks.removeAll() }

    /// Frees blocks beyond the ones `count` positions need.
    func releaseUnused() {
        let keep = (count + pool.blockTokens - 1) / pool.blockTokens
        if blocks.count > keep { blocks.removeLast(blocks.count - keep) }
    }

    /// A copy holding the same first `positions` positions (for several continuations of one prompt).
    public func fork(positions: Int? = nil) -> KVCache? {
        let n = positions ?? count
        precondition(n <= count)
        let copy = KVCache(pool: pool)
        guard copy.reserve(positions: n) else { return nil }
        let b = pool.blockTokens
        let usedBlocks = (n + b - 1) / b
        for i in 0..<usedBlocks {
            copy.blocks[i].data.update(from: blocks[i].data, count: pool.floatsPerBlock)
        }
        copy.count = n
        return copy
    }

    @inline(__always)
    func keys(layer l: Int, position p: Int) -> UnsafeMutablePointer<Float> {
        let b = pool.blockTokens
        return blocks[p / b].data + ((l * 2) * b + p % b) * pool.nEmbd
    }

    @inline(__always)
    func values(layer l: Int, position p: Int) -> UnsafeMutablePointer<Float> {
        let b = pool.blockTokens
        return blocks[p / b].data + ((l * 2 + 1) * b + p % b) * pool.nEmbd
    }
}
