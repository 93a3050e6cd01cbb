// KVCache.fork shares full blocks copy-on-write: a fork costs at most one block, and writing into
// either cache (appending, or rewriting after a truncate into shared blocks) never changes the other.
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct KVCacheForkTests {
    let cfg = GPT2Config(vocabSize: 97, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4, nInner: 48)
    let tokens: [Int32] = [5, 17, 3, 96, 0, 42, 42, 7, 11, 23, 64, 2, 9, 31, 77, 50, 1, 8]

    func logits(_ runner: GPT2Runner, _ cache: KVCache, _ next: [Int32]) throws -> [Float] {
        try runner.forward([ForwardRequest(cache: cache, tokens: next, logits: .last)])[0].logits
    }

    func close(_ x: [Float], _ y: [Float]) -> Bool {
        x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) < 1e-5 }
    }

    @Test func forkSharesFullBlocksAndCopiesOnWrite() throws {
        let w = RandomWeights.make(cfg, seed: 9)
        let runner = GPT2Runner(config: cfg, weights: w)
        let pool = KVBlockPool(config: cfg, blockTokens: 4)
        let source = KVCache(pool: pool)
        _ = try runner.forward([ForwardRequest(cache: source, tokens: Array(tokens[0..<14]), logits: .none)])
        #expect(pool.blocksInUse == 4)

        // 14 positions = 3 full blocks (shared) + 2 rows of a fourth (copied).
        let fork = try #require(source.fork())
        #expect(pool.blocksInUse == 5)
        #expect(fork.sharedBlocks == 3 && source.sharedBlocks == 3)

        // Both continue differently; each equals a cache computed from scratch.
        let fresh = { (prefix: [Int32]) throws -> KVCache in
            let c = KVCache(pool: pool)
            _ = try runner.forward([ForwardRequest(cache: c, tokens: prefix, logits: .none)])
            return c
        }
        let a = try logits(runner, fork, [1, 2, 3])
        let b = try logits(runner, source, [60])
        #expect(a == (try logits(runner, try fresh(Array(tokens[0..<14])), [1, 2, 3])))
        #expect(b == (try logits(runner, try fresh(Array(tokens[0..<14])), [60])))

        // Truncating into the shared blocks and rewriting: the fork gets private copies first.
        fork.truncate(to: 6)
        let c = try logits(runner, fork, [70, 71, 72, 73, 74])
        #expect(fork.sharedBlocks == 1)  // block 0 (positions 0–3) still shared; block 1 was copied
        // (Prefilled in another shape than the source's, so equal up to float rounding.)
        #expect(close(c, try logits(runner, try fresh(Array(tokens[0..<6])), [70, 71, 72, 73, 74])))
        // The source is untouched by the fork's rewrite.
        #expect(close(try logits(runner, source, [61]), try logits(runner, try fresh(Array(tokens[0..<14]) + [60]), [61])))
    }

    @Test func forkAtABlockBoundaryAllocatesNothing() throws {
        let runner = GPT2Runner(config: cfg, weights: RandomWeights.make(cfg, seed: 2))
        let pool = KVBlockPool(config: cfg, blockTokens: 4)
        let source = KVCache(pool: pool)
        _ = try runner.forward([ForwardRequest(cache: source, tokens: Array(tokens[0..<8]), logits: .none)])
        let before = pool.blocksInUse
        let fork = try #require(source.fork())
        #expect(pool.blocksInUse == before && fork.count == 8)
        // Dropping the source keeps the fork's blocks alive.
        source.reset()
        #expect(pool.blocksInUse == before && fork.sharedBlocks == 0)
    }
}
