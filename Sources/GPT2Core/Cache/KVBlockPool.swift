// KVBlockPool — hands out fixed-size KV blocks under one global memory budget.
//
// A block stores the keys and values of `blockTokens` consecutive positions for every layer:
//   block = [L][2][blockTokens][C] F32   (index 0 = keys, 1 = values)
// so a sequence's cache grows one block at a time instead of being preallocated to n_positions.
// Thread-safe: many sessions allocate and release concurrently.
import Foundation

public final class KVBlockPool: @unchecked Sendable {
    /// Positions per block.
    public let blockTokens: Int
    /// F32 values per block: L · 2 · blockTokens · C.
    public let floatsPerBlock: Int
    /// Bytes per block.
    public var bytesPerBlock: Int { floatsPerBlock * MemoryLayout<Float>.stride }
    /// The budget in bytes, nil for unlimited.
    public let budgetBytes: Int?
    let nLayer: Int
    let nEmbd: Int

    private let lock = NSLock()
    private var inUse = 0

    public init(config: GPT2Config, blockTokens: Int = 64, budgetBytes: Int? = nil) {
        precondition(blockTokens > 0)
        self.blockTokens = blockTokens
        self.nLayer = config.nLayer
        self.nEmbd = config.nEmbd
        self.floatsPerBlock = config.nLayer * 2 * blockTokens * config.nEmbd
        self.budgetBytes = budgetBytes
    }

    /// Blocks currently handed out.
    public var blocksInUse: Int { lock.lock(); defer { lock.unlock() }; return inUse }
    /// Bytes currently handed out.
    public var bytesInUse: Int { blocksInUse * bytesPerBlock }
    /// The most blocks the budget allows (nil when unlimited).
    public var maxBlocks: Int? { budgetBytes.map { $0 / bytesPerBlock } }

    /// A new block, or nil when the budget is exhausted.
    func allocate() -> KVBlock? {
        lock.lock()
        if let max = maxBlocks, inUse >= max { lock.unlock(); return nil }
        inUse += 1
        lock.unlock()
        return KVBlock(pool: self)
    }

    fileprivate func didRelease() { lock.lock(); inUse -= 1; lock.unlock() }
}

/// One block of KV storage; returns itself to the pool's accounting when freed.
final class KVBlock {
    let data: UnsafeMutablePointer<Float>
    private unowned(unsafe) let pool: KVBlockPool
    private let owner: KVBlockPool  // keeps the pool alive while blocks exist

    init(pool: KVBlockPool) {
        self.pool = pool
        self.owner = pool
        let bytes = pool.bytesPerBlock
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { fatalError("KV block allocation of \(bytes) bytes failed") }
        data = raw.bindMemory(to: Float.self, capacity: pool.floatsPerBlock)
    }

    deinit {
        free(data)
        pool.didRelease()
    }
}
