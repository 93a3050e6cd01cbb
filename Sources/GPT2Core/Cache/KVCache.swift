// KVCache — the keys and values of one sequence, in blocks from a KVBlockPool.
//
// Position p of layer l lives in block p / B at row p % B (B = pool.blockTokens), in elements of
// pool.dtype (E bytes each):
//   keys   (l, p) = block.data + ((l·2 + 0)·B + p % B)·C·E
//   values (l, p) = block.data + ((l·2 + 1)·B + p % B)·C·E
// `blockTable` mirrors the blocks' base addresses for the C attention kernel (ck_kv_view).
// A cache is only a cache: its owner (a session) can always drop it and recompute from tokens.
// Not thread-safe: one sequence is computed by one forward call at a time.
//
// Forks share blocks: a fork references the source's full blocks (copy-on-write) and copies only
// the partly filled last one, so forking a long prompt (prompt caching, n > 1 samples, beams)
// costs at most one block of memory and copying. Before positions are written, any shared block
// they fall in is replaced by a private copy (`reserve`).
import CKernels

public final class KVCache: @unchecked Sendable {
    public let pool: KVBlockPool
    /// Positions whose keys and values are stored (= the next position to compute).
    public internal(set) var count: Int = 0
    var blocks: [KVBlock] = [] { didSet { syncTable() } }
    /// blockTable[i] = blocks[i].data, for i < blocks.count (capacity tableCapacity).
    private(set) var blockTable: UnsafeMutablePointer<UnsafeRawPointer?>
    private var tableCapacity = 0

    public init(pool: KVBlockPool) {
        self.pool = pool
        blockTable = .allocate(capacity: 1)
        tableCapacity = 1
    }

    deinit { blockTable.deallocate() }

    private func syncTable() {
        if blocks.count > tableCapacity {
            blockTable.deallocate()
            tableCapacity = max(blocks.count, tableCapacity * 2)
            blockTable = .allocate(capacity: tableCapacity)
        }
        for (i, b) in blocks.enumerated() { blockTable[i] = UnsafeRawPointer(b.data) }
    }

    /// Positions the allocated blocks can hold.
    public var capacity: Int { blocks.count * pool.blockTokens }
    /// Bytes held by this cache.
    public var allocatedBytes: Int { blocks.count * pool.bytesPerBlock }

    /// Makes room for `positions` positions; on failure allocates nothing and returns false.
    /// Blocks holding positions count..<positions become this cache's own first (copy-on-write).
    func reserve(positions: Int) -> Bool {
        guard makeWritable(upTo: positions) else { return false }
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

    /// A copy holding the same first `positions` positions (for several continuations of one prompt):
    /// full blocks are shared, the partly used last one is copied. Nil when the budget has no block for it.
    public func fork(positions: Int? = nil) -> KVCache? {
        let n = positions ?? count
        precondition(n <= count)
        let b = pool.blockTokens
        let copy = KVCache(pool: pool)
        copy.blocks = Array(blocks[0..<(n / b)])
        if n % b != 0 {
            guard let last = pool.allocate() else { return nil }
            copyRows(n % b, from: blocks[n / b], to: last)
            copy.blocks.append(last)
        }
        copy.count = n
        return copy
    }

    /// Blocks this cache shares with another cache (test and diagnostics aid).
    public var sharedBlocks: Int {
        var n = 0
        for i in blocks.indices where !isKnownUniquelyReferenced(&blocks[i]) { n += 1 }
        return n
    }

    /// Replaces every shared block among those holding positions count..<end by a private copy of
    /// its rows below count. False (nothing lost, some blocks possibly already private) when the
    /// budget has no room.
    private func makeWritable(upTo end: Int) -> Bool {
        let b = pool.blockTokens
        guard end > count else { return true }
        var i = count / b
        while i < min(blocks.count, (end + b - 1) / b) {
            if !isKnownUniquelyReferenced(&blocks[i]) {
                guard let own = pool.allocate() else { return false }
                copyRows(max(0, min(b, count - i * b)), from: blocks[i], to: own)
                blocks[i] = own
            }
            i += 1
        }
        return true
    }

    /// Copies rows 0..<rows of every layer's keys and values from one block to another.
    private func copyRows(_ rows: Int, from src: KVBlock, to dst: KVBlock) {
        guard rows > 0 else { return }
        let slabBytes = pool.blockTokens * pool.nEmbd * pool.dtype.bytes
        for slab in 0..<(pool.nLayer * 2) {  // (layer, keys|values) slabs of b rows
            (dst.data + slab * slabBytes).copyMemory(from: src.data + slab * slabBytes,
                                                     byteCount: rows * pool.nEmbd * pool.dtype.bytes)
        }
    }

    /// Layer l's keys and values for the C attention kernel (valid until the blocks change).
    func kvView(layer l: Int) -> ck_kv_view {
        let b = pool.blockTokens, c = pool.nEmbd
        return ck_kv_view(blocks: UnsafePointer(blockTable), block_tokens: b, key_offset: l * 2 * b * c,
                          value_offset: (l * 2 + 1) * b * c, ld: c, kind: pool.dtype.ckKind)
    }

    /// Position p's key row of layer l: C elements of pool.dtype.
    @inline(__always)
    func keys(layer l: Int, position p: Int) -> UnsafeMutableRawPointer {
        let b = pool.blockTokens
        return blocks[p / b].data + ((l * 2) * b + p % b) * pool.nEmbd * pool.dtype.bytes
    }

    /// Position p's value row of layer l: C elements of pool.dtype.
    @inline(__always)
    func values(layer l: Int, position p: Int) -> UnsafeMutableRawPointer {
        let b = pool.blockTokens
        return blocks[p / b].data + ((l * 2 + 1) * b + p % b) * pool.nEmbd * pool.dtype.bytes
    }
}
