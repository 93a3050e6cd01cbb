// Copy-on-write forks and truncation with 16-bit KV blocks (KVCacheForkTests for float16 and
// bfloat16): a fork shares full blocks, copies the partly filled last one byte for byte, and
// writing into either cache never changes the other; a 16-bit block is half a float32 block.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct HalfKVForkTests {
    let cfg = GPT2Config(vocabSize: 97, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4, nInner: 48)
    let tokens: [Int32] = [5, 17, 3, 96, 0, 42, 42, 7, 11, 23, 64, 2, 9, 31, 77, 50, 1, 8]

    func logits(_ runner: GPT2Runner, _ cache: KVCache, _ next: [Int32]) throws -> [Float] {
        try runner.forward([ForwardRequest(cache: cache, tokens: next, logits: .last)])[0].logits
    }

    func close(_ x: [Float], _ y: [Float]) -> Bool {
        x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) < 1e-5 }
    }

    @Test(arguments: [KVDType.float16, .bfloat16])
    func forkSharesFullBlocksAndCopiesOnWrite(_ dtype: KVDType) throws {
        let runner = GPT2Runner(config: cfg, weights: RandomWeights.make(cfg, seed: 9))
        let pool = KVBlockPool(config: cfg, blockTokens: 4, dtype: dtype)
        #expect(pool.bytesPerBlock * 2 == KVBlockPool(config: cfg, blockTokens: 4).bytesPerBlock)
        let source = KVCache(pool: pool)
        _ = try runner.forward([ForwardRequest(cache: source, tokens: Array(tokens[0..<14]), logits: .none)])
        #expect(pool.blocksInUse == 4)

        // 14 positions = 3 full blocks (shared) + 2 rows of a fourth (copied).
        let fork = try #require(source.fork())
        #expect(pool.blocksInUse == 5 && pool.bytesInUse == 5 * pool.bytesPerBlock)
        #expect(fork.sharedBlocks == 3 && source.sharedBlocks == 3)
        // The copied rows are the source's bytes.
        for l in 0..<cfg.nLayer {
            for p in 12..<14 {
                #expect(memcmp(fork.keys(layer: l, position: p), source.keys(layer: l, position: p), cfg.nEmbd * 2) == 0)
                #expect(memcmp(fork.values(layer: l, position: p), source.values(layer: l, position: p), cfg.nEmbd * 2) == 0)
            }
        }

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
        #expect(fork.capacity == 8)
        let c = try logits(runner, fork, [70, 71, 72, 73, 74])
        #expect(fork.sharedBlocks == 1)  // block 0 (positions 0–3) still shared; block 1 was copied
        #expect(close(c, try logits(runner, try fresh(Array(tokens[0..<6])), [70, 71, 72, 73, 74])))
        // The source is untouched by the fork's rewrite.
        #expect(close(try logits(runner, source, [61]), try logits(runner, try fresh(Array(tokens[0..<14]) + [60]), [61])))
    }

    /// Truncating frees the blocks past the kept positions and rewrites the rest in place: the
    /// continuation equals that of a fork at the same position (same stored bytes).
    @Test(arguments: [KVDType.float16, .bfloat16])
    func truncateFreesBlocksAndRewrites(_ dtype: KVDType) throws {
        let runner = GPT2Runner(config: cfg, weights: RandomWeights.make(cfg, seed: 4))
        let pool = KVBlockPool(config: cfg, blockTokens: 4, dtype: dtype)
        let cache = KVCache(pool: pool), reference = KVCache(pool: pool)
        for c in [cache, reference] {
            _ = try runner.forward([ForwardRequest(cache: c, tokens: Array(tokens[0..<17]), logits: .none)])
        }
        #expect(pool.blocksInUse == 10)
        let forked = try #require(reference.fork(positions: 9))  // shares 2 blocks, copies 1
        #expect(pool.blocksInUse == 11)
        cache.truncate(to: 9)
        #expect(pool.blocksInUse == 9 && cache.count == 9 && cache.capacity == 12)
        let again = try logits(runner, cache, [tokens[9], tokens[10]])
        #expect(again == (try logits(runner, forked, [tokens[9], tokens[10]])))
        // The reference keeps its own positions 9...16.
        #expect(reference.count == 17 && reference.sharedBlocks == 2)
    }
}
