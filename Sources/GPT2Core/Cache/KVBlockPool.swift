// KVBlockPool — hands out fixed-size KV blocks under one global memory budget.
//
// A block stores the keys and values of `blockTokens` consecutive positions for every layer:
//   block = [L][2][blockTokens][C] F32   (index 0 = keys, 1 = values)
// so a sequence's cache grows one block at a time instead of being preallocated to n_positions.
// Thread-safe: many sessions allocate and release concurrently.
import Foundation

public final class KVBlockPool: @unchecked Sendable {
    /// Positions per block when none is given: the daemon's `kv_block_tokens` default (a test checks
    /// that the two agree).
    public static let defaultBlockTokens = 32

    /// Positions per block.
    public let blockTokens: Int
    /// F32 values per block: L · 2 · blockTokens · C.
    public let floatsPerBlock: Int
    /// Bytes per block.
    public var bytesPerBlock: Int { floatsPerBlock * MemoryLayout<Float>.stride }
    /// The memory budget this pool draws from (possibly shared with other models' pools).
    public let budget: KVMemoryBudget
    let nLayer: Int
    let nEmbd: Int

    /// Freed block memory kept for the next allocation, up to this many bytes (not counted in the
    /// budget): fresh pages cost a page fault each on first touch (≈ 3 % of a prefill's time).
    public let spareLimitBytes: Int

    private let lock = NSLock()
    private var inUse = 0
    private var spare: [UnsafeMutablePointer<Float>] = []

    /// A pool drawing from `budget` (shared by every model of a daemon).
    public init(config: GPT2Config, blockTokens: Int = KVBlockPool.defaultBlockTokens, budget: KVMemoryBudget,
                spareLimitBytes: Int = 128 << 20) {
        precondition(blockTokens > 0)
        self.spareLimitBytes = spareLimitBytes
        self.blockTokens = blockTokens
        self.nLayer = config.nLayer
        self.nEmbd = config.nEmbd
        self.floatsPerBlock = config.nLayer * 2 * blockTokens * config.nEmbd
        self.budget = budget
    }

    /// A pool with a budget of its own (nil bytes = unlimited).
    public convenience init(config: GPT2Config, blockTokens: Int = KVBlockPool.defaultBlockTokens, budgetBytes: Int? = nil) {
        self.init(config: config, blockTokens: blockTokens, budget: KVMemoryBudget(limitBytes: budgetBytes))
    }

    /// Blocks currently handed out by this pool.
    public var blocksInUse: Int { lock.lock(); defer { lock.unlock() }; return inUse }
    /// Bytes currently handed out by this pool.
    public var bytesInUse: Int { blocksInUse * bytesPerBlock }

    /// Spare blocks held for reuse right now.
    public var spareBlocks: Int { lock.lock(); defer { lock.unlock() }; return spare.count }

    /// A new block, or nil when the budget is exhausted.
    func allocate() -> KVBlock? {
        guard budget.reserve(bytesPerBlock) else { return nil }
        lock.lock()
        inUse += 1
        let memory = spare.popLast()
        lock.unlock()
        return KVBlock(pool: self, memory: memory ?? newMemory())
    }

    private func newMemory() -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytesPerBlock) == 0, let raw else {
            fatalError("KV block allocation of \(bytesPerBlock) bytes failed")
        }
        return raw.bindMemory(to: Float.self, capacity: floatsPerBlock)
    }

    fileprivate func didRelease(_ memory: UnsafeMutablePointer<Float>) {
        lock.lock()
        inUse -= 1
        let keep = (spare.count + 1) * bytesPerBlock <= spareLimitBytes
        if keep { spare.append(memory) }
        lock.unlock()
        if !keep { free(memory) }
        budget.release(bytesPerBlock)
    }

    deinit { for p in spare { free(p) } }
}

/// A byte budget for KV memory, shared by every pool that draws from it. Thread-safe.
public final class KVMemoryBudget: @unchecked Sendable {
    /// The limit in bytes; nil for unlimited.
    public let limitBytes: Int?
    private let lock = NSLock()
    private var used = 0

    public init(limitBytes: Int?) { self.limitBytes = limitBytes }

    /// Bytes currently reserved.
    public var usedBytes: Int { lock.lock(); defer { lock.unlock() }; return used }

    /// Reserves `bytes` if the limit allows.
    func reserve(_ bytes: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if let limit = limitBytes, used + bytes > limit { return false }
        used += bytes
        return true
    }

    func release(_ bytes: Int) { lock.lock(); used -= bytes; lock.unlock() }
}

/// One block of KV storage; returns its memory to the pool when freed.
final class KVBlock {
    let data: UnsafeMutablePointer<Float>
    /// Strong: the pool (and its budget) outlives every block it handed out.
    private let pool: KVBlockPool

    init(pool: KVBlockPool, memory: UnsafeMutablePointer<Float>) {
        self.pool = pool
        data = memory
    }

    /// Hands the memory back to the pool (kept as a spare or freed).
    deinit { pool.didRelease(data) }
}
