// KVBlockPool: freed block memory is kept for reuse up to spareLimitBytes (outside the budget),
// and the budget counts only blocks in use.
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct KVBlockPoolTests {
    @Test func freedBlocksAreReusedUpToTheSpareLimit() throws {
        let cfg = GPT2Config(vocabSize: 97, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4)
        let probe = KVBlockPool(config: cfg, blockTokens: 4)
        let budget = KVMemoryBudget(limitBytes: probe.bytesPerBlock * 10)
        let pool = KVBlockPool(config: cfg, blockTokens: 4, budget: budget, spareLimitBytes: probe.bytesPerBlock * 3)
        var blocks = (0..<5).map { _ in pool.allocate()! }
        let originals = Set(blocks.map(\.data))
        #expect(pool.blocksInUse == 5 && budget.usedBytes == 5 * pool.bytesPerBlock)
        blocks.removeAll()
        // Three kept, two freed; the budget is back to zero either way.
        #expect(pool.spareBlocks == 3 && pool.blocksInUse == 0 && budget.usedBytes == 0)
        let again = (0..<4).map { _ in pool.allocate()! }
        #expect(pool.spareBlocks == 0 && pool.blocksInUse == 4)
        // The three spares come back (in some order) before any new memory is mapped.
        #expect(again.filter { originals.contains($0.data) }.count >= 3)
        // A spare block still respects the budget: 10 blocks at most.
        var more = (0..<6).map { _ in pool.allocate() }
        #expect(more.allSatisfy { $0 != nil })
        #expect(pool.allocate() == nil)
        more.removeAll()
        _ = again
    }
}
