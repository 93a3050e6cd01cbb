// The batched runner against the naive Double reference and against itself:
// incremental decode = full recompute, mixed batches = each sequence alone, errors leave caches unchanged.
import Testing
@testable import GPT2Core
import GPT2TestSupport

private func tinyConfig(_ act: Activation = .geluNew, invLayer: Bool = false, scale: Bool = true, tied: Bool = true) -> GPT2Config {
    GPT2Config(vocabSize: 97, nPositions: 40, nEmbd: 32, nLayer: 2, nHead: 4, nInner: 48,
               activation: act, scaleAttnWeights: scale, scaleAttnByInverseLayerIdx: invLayer, tieWordEmbeddings: tied)
}

private func maxDiff(_ a: ArraySlice<Float>, _ b: [Double]) -> Double {
    zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}

private func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

private let sequence: [Int32] = [5, 17, 3, 96, 0, 42, 42, 7, 11, 23, 64, 2, 9, 31, 77, 50, 1, 8, 13, 21]

@Suite struct ForwardConsistencyTests {
    @Test(arguments: [Activation.geluNew, .gelu, .relu, .silu, .geluFast, .quickGelu, .tanh])
    func prefillMatchesReference(_ act: Activation) throws {
        let cfg = tinyConfig(act, invLayer: act == .gelu, scale: act != .relu, tied: act != .silu)
        let w = RandomWeights.make(cfg, seed: 7)
        let runner = GPT2Runner(config: cfg, weights: w)
        for (threshold, block) in [(1, 64), (1, 3), (1000, 64)] {  // GEMM attention (one or many row blocks), SIMD attention
            runner.attentionGemmThreshold = threshold
            runner.attentionRowBlock = block
            let cache = KVCache(pool: KVBlockPool(config: cfg, blockTokens: 4))
            let out = try runner.forward([ForwardRequest(cache: cache, tokens: sequence, logits: .all, hidden: .all)])[0]
            let ref = ReferenceForward.run(cfg, w, tokens: sequence.map(Int.init))
            #expect(out.logitRows == sequence.count && out.hiddenRows == sequence.count)
            for t in 0..<sequence.count {
                #expect(maxDiff(out.logitsRow(t, vocabSize: cfg.vocabSize), ref.logits[t]) < 1e-4, "logits row \(t), \(act)")
                #expect(maxDiff(out.hidden[(t * cfg.nEmbd)..<((t + 1) * cfg.nEmbd)], ref.hidden[t]) < 1e-4, "hidden row \(t)")
            }
            #expect(cache.count == sequence.count)
        }
    }

    @Test func incrementalDecodeEqualsFullRecompute() throws {
        let cfg = tinyConfig()
        let w = RandomWeights.make(cfg, seed: 3)
        let runner = GPT2Runner(config: cfg, weights: w)
        let pool = KVBlockPool(config: cfg, blockTokens: 4)
        let full = try runner.forward([ForwardRequest(cache: KVCache(pool: pool), tokens: sequence, logits: .all)])[0]
        // One token at a time.
        let cache = KVCache(pool: pool)
        for (t, tok) in sequence.enumerated() {
            let step = try runner.forward([ForwardRequest(cache: cache, tokens: [tok], logits: .last)])[0]
            #expect(maxDiff(step.logits, Array(full.logitsRow(t, vocabSize: cfg.vocabSize))) < 1e-5, "position \(t)")
        }
        // Uneven chunks (crossing block boundaries), GEMM attention in 2-row blocks for the big ones.
        runner.attentionGemmThreshold = 3
        runner.attentionRowBlock = 2
        let chunked = KVCache(pool: pool)
        var at = 0
        for size in [7, 1, 2, 6, 4] {
            let chunk = Array(sequence[at..<(at + size)])
            let out = try runner.forward([ForwardRequest(cache: chunked, tokens: chunk, logits: .all)])[0]
            for r in 0..<size {
                #expect(maxDiff(Array(out.logitsRow(r, vocabSize: cfg.vocabSize)), Array(full.logitsRow(at + r, vocabSize: cfg.vocabSize))) < 1e-5)
            }
            at += size
        }
    }

    @Test func mixedBatchEqualsEachAlone() throws {
        let cfg = tinyConfig()
        let w = RandomWeights.make(cfg, seed: 11)
        let runner = GPT2Runner(config: cfg, weights: w)
        runner.attentionGemmThreshold = 5
        let pool = KVBlockPool(config: cfg, blockTokens: 4)
        let prompts: [[Int32]] = [Array(sequence[0..<13]), Array(sequence[3..<5]), Array(sequence[7..<16])]
        // Alone: prefill all but the last token, then the last token.
        var alone: [[Float]] = []
        for p in prompts {
            let c = KVCache(pool: pool)
            _ = try runner.forward([ForwardRequest(cache: c, tokens: Array(p.dropLast()), logits: .none)])
            alone.append(try runner.forward([ForwardRequest(cache: c, tokens: [p.last!])])[0].logits)
        }
        // Together: sequence 0 prefilled alone first, then one batch mixing its decode step with two prefills.
        let c0 = KVCache(pool: pool), c1 = KVCache(pool: pool), c2 = KVCache(pool: pool)
        _ = try runner.forward([ForwardRequest(cache: c0, tokens: Array(prompts[0].dropLast()), logits: .none)])
        let out = try runner.forward([
            ForwardRequest(cache: c1, tokens: prompts[1]),
            ForwardRequest(cache: c0, tokens: [prompts[0].last!]),
            ForwardRequest(cache: c2, tokens: prompts[2]),
        ])
        #expect(maxDiff(out[1].logits, alone[0]) < 1e-5)
        #expect(maxDiff(out[0].logits, alone[1]) < 1e-5)
        #expect(maxDiff(out[2].logits, alone[2]) < 1e-5)
    }

    @Test func errorsLeaveCachesUntouched() throws {
        let cfg = tinyConfig()
        let runner = GPT2Runner(config: cfg, weights: RandomWeights.make(cfg))
        let pool = KVBlockPool(config: cfg, blockTokens: 4, budgetBytes: KVBlockPool(config: cfg, blockTokens: 4).bytesPerBlock * 3)
        let a = KVCache(pool: pool), b = KVCache(pool: pool)
        _ = try runner.forward([ForwardRequest(cache: a, tokens: [1, 2, 3, 4, 5])])  // 2 blocks
        #expect(pool.blocksInUse == 2)
        // b needs 2 blocks, only 1 left: refused, nothing allocated, a unchanged.
        #expect(throws: ForwardError.kvBudgetExhausted(sequence: 1, neededBlocks: 2)) {
            try runner.forward([ForwardRequest(cache: a, tokens: [6]), ForwardRequest(cache: b, tokens: [1, 2, 3, 4, 5])])
        }
        #expect(pool.blocksInUse == 2 && a.count == 5 && b.count == 0)
        #expect(throws: ForwardError.contextOverflow(sequence: 0, positions: 41, limit: 40)) {
            try runner.forward([ForwardRequest(cache: a, tokens: [Int32](repeating: 1, count: 36))])
        }
        #expect(throws: ForwardError.tokenOutOfRange(sequence: 0, token: 97, vocabSize: 97)) {
            try runner.forward([ForwardRequest(cache: a, tokens: [97])])
        }
        #expect(throws: ForwardError.emptyInput(sequence: 0)) { try runner.forward([ForwardRequest(cache: a, tokens: [])]) }
        #expect(throws: ForwardError.duplicateCache(sequence: 1)) {
            try runner.forward([ForwardRequest(cache: a, tokens: [1]), ForwardRequest(cache: a, tokens: [2])])
        }
        #expect(a.count == 5)
        // Truncate frees blocks; fork copies.
        let f = try #require(a.fork(positions: 3))
        #expect(f.count == 3 && pool.blocksInUse == 3)
        a.truncate(to: 2)
        #expect(pool.blocksInUse == 2)
        let x = try runner.forward([ForwardRequest(cache: f, tokens: [4, 5])])[0].logits
        f.reset()
        #expect(pool.blocksInUse == 1)
        let y = try runner.forward([ForwardRequest(cache: a, tokens: [3, 4, 5])])[0].logits
        #expect(maxDiff(x, y) < 1e-5)
    }

    /// Rows nobody reads skip the last layer after its key/value projection: the rows that are read
    /// equal a full forward's, and the cache (keys/values of every row) serves the next step the same.
    @Test func lastLayerRunsOnlyForRowsThatAreRead() throws {
        let cfg = tinyConfig()
        let w = RandomWeights.make(cfg, seed: 5)
        let runner = GPT2Runner(config: cfg, weights: w)
        runner.attentionGemmThreshold = 4
        let pool = KVBlockPool(config: cfg, blockTokens: 4)
        let prompts: [[Int32]] = [Array(sequence[0..<11]), Array(sequence[2..<5]), Array(sequence[4..<13])]
        let full = try prompts.map { p in
            try runner.forward([ForwardRequest(cache: KVCache(pool: pool), tokens: p, logits: .all, hidden: .all)])[0]
        }
        let caches = prompts.map { _ in KVCache(pool: pool) }
        let out = try runner.forward([
            ForwardRequest(cache: caches[0], tokens: prompts[0], logits: .last),
            ForwardRequest(cache: caches[1], tokens: prompts[1], logits: .none, hidden: .last),
            ForwardRequest(cache: caches[2], tokens: prompts[2], logits: .none),
        ])
        #expect(maxDiff(out[0].logits, Array(full[0].logitsRow(prompts[0].count - 1, vocabSize: cfg.vocabSize))) < 1e-5)
        let C = cfg.nEmbd, t1 = prompts[1].count - 1
        #expect(maxDiff(out[1].hidden, Array(full[1].hidden[(t1 * C)..<((t1 + 1) * C)])) < 1e-5)
        #expect(out[2].logits.isEmpty && out[2].hidden.isEmpty)
        // The next token after each pruned prefill = the reference for the whole sequence.
        for (i, p) in prompts.enumerated() {
            let next: Int32 = 19
            let step = try runner.forward([ForwardRequest(cache: caches[i], tokens: [next], logits: .last)])[0]
            let ref = ReferenceForward.run(cfg, w, tokens: (p + [next]).map(Int.init))
            #expect(maxDiff(step.logits[...], ref.logits[p.count]) < 1e-4, "sequence \(i)")
        }
    }
}
