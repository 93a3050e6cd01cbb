// 16-bit KV caches (KVBlockPool dtype float16 / bfloat16) through the whole forward pass, on every
// committed fixture: prefill (the GEMM path, which widens the gathered keys/values) and one-token
// decode steps (the single-pass kernel) give logits within a stated bound of the float32 cache's —
// the only difference is the rounding of each stored key and value (float16: 2^-11 relative,
// bfloat16: 2^-8). The bound is relative to the largest |logit| of the float32 run: 2e-3 for
// float16, 1.6e-2 for bfloat16 (measured on these random-weight models: up to ≈ 1e-3 and 1e-2;
// the relu model is the worst). Also: the memory a position costs, measured through the
// pool at the gpt2 shape, and the runner's portable attention kernel equal to the AVX2 one.
import Testing
@testable import GPT2Core
import GPT2TestSupport

private func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct HalfKVForwardTests {
    /// Largest |Δlogit| against the float32 cache allowed per type, relative to the largest |logit|.
    static func bound(_ dtype: KVDType) -> Float { dtype == .float16 ? 2e-3 : 1.6e-2 }

    /// Logits of `ids`: one prefill of every row, and (decode) the first token then one token per step.
    static func logits(_ runner: GPT2Runner, _ pool: KVBlockPool, _ ids: [Int32]) throws -> (prefill: [Float], decode: [Float]) {
        let prefill = try runner.forward([ForwardRequest(cache: KVCache(pool: pool), tokens: ids, logits: .all)])[0].logits
        let cache = KVCache(pool: pool)
        var decode: [Float] = []
        for t in ids { decode += try runner.forward([ForwardRequest(cache: cache, tokens: [t], logits: .last)])[0].logits }
        return (prefill, decode)
    }

    @Test(arguments: Fixtures.modelFixtures)
    func logitsStayWithinBoundOfFloat32Cache(_ fixture: Fixtures.ModelFixture) throws {
        let model = try GPT2Model.load(directory: fixture.directory)
        let golden = try SafeTensorsFile.open(path: fixture.directory + "/golden.safetensors")
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        // The longest golden input, continued with itself to ≥ 100 positions (many blocks).
        var ids = try (0..<3).map { try golden.int64s("input_ids.\($0)").map { Int32($0) } }.max { $0.count < $1.count }!
        while ids.count < 100 { ids += ids }
        ids = Array(ids.prefix(min(model.config.nPositions, 120)))
        let exact = try Self.logits(runner, KVBlockPool(config: model.config, blockTokens: 8), ids)
        let scale = exact.prefill.map(abs).max()!
        for dtype in [KVDType.float16, .bfloat16] {
            let got = try Self.logits(runner, KVBlockPool(config: model.config, blockTokens: 8, dtype: dtype), ids)
            let dp = maxAbsDiff(got.prefill, exact.prefill) / scale, dd = maxAbsDiff(got.decode, exact.decode) / scale
            #expect(dp <= Self.bound(dtype) && dd <= Self.bound(dtype),
                    "\(fixture) \(dtype): relative prefill \(dp), decode \(dd) (max |logit| \(scale))")
            #expect(dp > 0 && dd > 0, "\(fixture) \(dtype): the 16-bit cache must round something")
            // Prefill and decode read values rounded from float32 keys/values that differ in the
            // last bits, so they agree within the same bound.
            #expect(maxAbsDiff(got.prefill, got.decode) / scale <= Self.bound(dtype), "\(fixture) \(dtype)")
        }
    }

    /// gpt2 shape: 12 layers × 2 (keys, values) × 768 × 2 B = 36,864 B per position in 16 bits, half
    /// of float32's 73,728 B, measured as the bytes the pool and its budget hand out for 1,000 positions.
    @Test(arguments: KVDType.allCases)
    func bytesPerTokenAtGPT2Shape(_ dtype: KVDType) {
        let theoretical = 12 * 2 * 768 * dtype.bytes
        let pool = KVBlockPool(config: .gpt2, blockTokens: 32, dtype: dtype)
        #expect(pool.bytesPerToken == theoretical)
        let cache = KVCache(pool: pool)
        #expect(cache.reserve(positions: 1000))
        let measured = Double(pool.bytesInUse) / 1000
        #expect(measured <= 1.1 * Double(theoretical), "\(dtype): \(measured) B per position")
        #expect(pool.budget.usedBytes == pool.bytesInUse && cache.allocatedBytes == pool.bytesInUse)
        #expect(theoretical == (dtype == .float32 ? 73_728 : 36_864))
    }

    @Test(.enabled(if: KVDType.simd), arguments: KVDType.allCases)
    func portableAttentionEqualsAVX2(_ dtype: KVDType) throws {
        let model = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
        let fast = GPT2Runner(config: model.config, weights: model.weights)
        let plain = GPT2Runner(config: model.config, weights: model.weights)
        plain.portableAttention = true
        let ids = (0..<110).map { Int32(($0 * 37 + 11) % model.config.vocabSize) }
        let pool = KVBlockPool(config: model.config, blockTokens: 8, dtype: dtype)
        let a = try Self.logits(fast, pool, ids), b = try Self.logits(plain, pool, ids)
        #expect(a.prefill == b.prefill)  // the GEMM path does not use the kernel
        // float32: the kernels' last-bit differences only; 16-bit: such a difference in one layer's
        // output can move the next layer's keys/values across a rounding boundary (one 16-bit unit).
        #expect(maxAbsDiff(a.decode, b.decode) < (dtype == .float32 ? 1e-5 : 2e-4), "\(dtype)")
    }
}
