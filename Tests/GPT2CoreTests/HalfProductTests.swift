// HalfProductTests — products reading 16-bit weights with no F32 copy: the portable path (strips
// widened for OpenBLAS; what CPUs without AVX-512 run, and what `Matmul.$forcePortable` forces)
// and the AVX-512 packed GEMM widening while packing, each against the F32 path on the upcast
// values; the load-time narrowing against Swift's own conversions; and whole forward passes of
// 16-bit and packed models on the portable path against the default back end.
import CKernels
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct HalfProductTests {
    init() { TestThreads.configure() }

    /// Largest |a − b|: logits compare absolutely, as the goldens do (MANIFEST tolerance 1e-4).
    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    static func random(_ n: Int, _ rng: inout some RandomNumberGenerator) -> [Float] {
        (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
    }

    /// Matmul with a 16-bit weight Tensor (no F32 copy) equals the F32 Tensor of the upcast values —
    /// bit for bit on the default back end, to rounding on the forced portable one: decode and prefill
    /// row counts, both layouts, beta 0 / 1.
    @Test(arguments: [1, 3, 16, 17, 70])
    func sixteenBitTensorMatchesF32(_ m: Int) async {
        var rng = SplitMix64(seed: UInt64(m))
        for kind in [HalfView.Kind.f16, .bf16] {
            for (k, n) in [(37, 53), (300, 700), (64, 33)] {
                let x = Self.random(m * k, &rng)
                let bits = HalfWeightKernelTests.randomBits(k * n, kind: kind, &rng)
                let w32 = HalfWeightKernelTests.upcast(bits, kind: kind)
                for beta: Float in [0, 1] {
                    let y0 = Self.random(m * n, &rng)
                    for portable in [false, true] {
                        var kn32 = y0, kn16 = y0, nk32 = y0, nk16 = y0
                        Matmul.$forcePortable.withValue(portable) {
                            bits.withUnsafeBytes { raw in
                                w32.withUnsafeBufferPointer { wp in
                                    let t16 = Tensor(name: "w", shape: [k, n], storage: .half(HalfView(kind: kind, data: raw.baseAddress!)))
                                    let t32 = Tensor(name: "w", shape: [k, n], data: wp.baseAddress!)
                                    Matmul.conv1D(x, m: m, k: k, t32, n: n, &kn32, beta: beta)
                                    Matmul.conv1D(x, m: m, k: k, t16, n: n, &kn16, beta: beta)
                                    Matmul.linear(x, m: m, k: k, t32, n: n, &nk32, beta: beta)  // w read as [n, k]
                                    Matmul.linear(x, m: m, k: k, t16, n: n, &nk16, beta: beta)
                                }
                            }
                        }
                        let label = "\(kind) m=\(m) k=\(k) n=\(n) beta=\(beta) portable=\(portable)"
                        if portable {
                            // OpenBLAS threads or splits the F32 product its own way: both within
                            // rounding of the Double product of the upcast values.
                            let wantKN = MatmulTests.reference(m: m, n: n, k: k, alpha: 1, x, lda: k, w32, ldb: n,
                                                               transB: false, beta: beta, y0, ldc: n)
                            let wantNK = MatmulTests.reference(m: m, n: n, k: k, alpha: 1, x, lda: k, w32, ldb: k,
                                                               transB: true, beta: beta, y0, ldc: n)
                            #expect(MatmulTests.close(kn16, wantKN) && MatmulTests.close(kn32, wantKN), "conv1D \(label)")
                            #expect(MatmulTests.close(nk16, wantNK) && MatmulTests.close(nk32, wantNK), "linear \(label)")
                        } else {
                            // The same kernels / the same OpenBLAS calls on the same values: identical.
                            #expect(kn16 == kn32, "conv1D \(label)")
                            #expect(nk16 == nk32, "linear \(label)")
                        }
                    }
                }
            }
        }
    }

    /// The packed GEMM with 16-bit B (AVX-512 only) equals ck_gemm on the upcast B bit for bit.
    @Test(.enabled(if: CPUFeatures.avx512), arguments: [(7, 65, 257), (13, 130, 300), (40, 200, 64)])
    func gemmW16EqualsGemmOnUpcast(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: 7)
        for kind in [HalfView.Kind.f16, .bf16] {
            for transB in [false, true] {
                for beta: Float in [0, 1] {
                    let lda = k + 3, ldc = n + 2, ldb = (transB ? k : n) + 5
                    let a = Self.random(m * lda, &rng), c0 = Self.random(m * ldc, &rng)
                    let bits = HalfWeightKernelTests.randomBits((transB ? n : k) * ldb, kind: kind, &rng)
                    let b32 = HalfWeightKernelTests.upcast(bits, kind: kind)
                    let b16 = [UInt16(0)] + bits  // 2-byte aligned, not 4
                    var want = c0, one = c0, par = c0
                    ck_gemm(m, n, k, 1, a, lda, b32, ldb, transB ? 1 : 0, beta, &want, ldc)
                    b16.withUnsafeBytes { raw in
                        ck_gemm_w16(m, n, k, 1, a, lda, raw.baseAddress! + 2, kind.ckKind, ldb, transB ? 1 : 0, beta, &one, ldc)
                        ck_gemm_w16_parallel(m, n, k, 1, a, lda, raw.baseAddress! + 2, kind.ckKind, ldb, transB ? 1 : 0, beta, &par, ldc)
                    }
                    #expect(one == want && par == want, "\(kind) m=\(m) n=\(n) k=\(k) transB=\(transB) beta=\(beta)")
                }
            }
        }
    }

    /// ck_narrow_f32 rounds exactly as Swift's Float16(_:) and the BF16 round-to-nearest-even,
    /// on every exponent, ties, subnormals, overflow, ±0, ±inf; NaN stays NaN.
    @Test func narrowingRoundsToNearestEven() {
        var rng = SplitMix64(seed: 11)
        var inputs: [Float] = [0, -0, .infinity, -.infinity, 65504, 65519.99, 65520, -65520, 0x1p-24, 0x1p-25,
                               0x1.8p-25, 0x1p-26, 0x1p-14, 0x1.ffcp-15, 1 + 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 1 + 0x3p-11,
                               .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1 + 0x1p-8, 1 + 0x3p-8]
        for _ in 0..<200_000 { inputs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        inputs = inputs.filter { !$0.isNaN } + [.nan, -.nan, Float(bitPattern: 0x7F80_0001)]
        var f16 = [UInt16](repeating: 0, count: inputs.count), bf16 = f16
        ck_narrow_f32(inputs, &f16, CK_HALF_F16, inputs.count)
        ck_narrow_f32(inputs, &bf16, CK_HALF_BF16, inputs.count)
        for (i, f) in inputs.enumerated() {
            if f.isNaN {
                #expect(Float16(bitPattern: f16[i]).isNaN && float32(fromBF16Bits: bf16[i]).isNaN)
                continue
            }
            #expect(f16[i] == Float16(f).bitPattern, "F16 of \(f) (\(String(f.bitPattern, radix: 16)))")
            #expect(bf16[i] == SafeTensorsWriter.bf16Bits(f), "BF16 of \(f)")
        }
    }

    /// A whole model on the portable path (16-bit strips for OpenBLAS) against the default back end:
    /// prefill and batched decode logits within the goldens' 1e-4, and identical greedy tokens.
    @Test(arguments: ["tiny-f16", "tiny-bf16"])
    func sixteenBitModelOnPortablePath(_ name: String) async throws {
        let model = try GPT2Model.load(directory: Fixtures.model(name))
        #expect(model.weights.wte.half != nil)
        let fast = try Self.run(model.config, model.weights, portable: false)
        let plain = try Self.run(model.config, model.weights, portable: true)
        #expect(fast.tokens == plain.tokens, "\(name): greedy tokens differ")
        for (s, (a, b)) in zip(fast.logits, plain.logits).enumerated() {
            #expect(Self.maxAbsDiff(a, b) <= 1e-4, "\(name) step \(s)")
        }
    }

    /// A packed model (ExactRowsMatrix: the F32 values as "quantized" rows) computes the F32 model,
    /// on both back ends: the dispatch to multiply, the tied head and the embedding row lookup.
    @Test func packedModelComputesTheF32Model() async throws {
        let dir = Fixtures.model("tiny-gpt2")
        let f32 = try CheckpointLoader.load(directory: dir)
        let packed = try CheckpointLoader.load(directory: dir, options: LoadOptions(weightType: .int8),
                                               formats: [.int8: ExactRowsMatrix.self])
        #expect(packed.weights.wte.packed != nil && packed.weights.layers[0].mlpFCWeight.packed != nil)
        let want = try Self.run(f32.config, f32.weights, portable: false)
        for portable in [false, true] {
            let got = try Self.run(packed.config, packed.weights, portable: portable)
            #expect(got.tokens == want.tokens, "portable=\(portable): greedy tokens differ")
            for (s, (a, b)) in zip(got.logits, want.logits).enumerated() {
                #expect(Self.maxAbsDiff(a, b) <= 1e-4, "portable=\(portable) step \(s)")
            }
        }
    }

    /// Greedy tokens and per-step logits (a 20/15/10-row prefill, then 6 batched decode steps).
    static func run(_ c: GPT2Config, _ w: GPT2Weights, portable: Bool) throws -> (tokens: [Int32], logits: [[Float]]) {
        try Matmul.$forcePortable.withValue(portable) {
            let runner = GPT2Runner(config: c, weights: w)
            let prompt: [Int32] = [464, 2068, 7586, 21831, 18045, 625, 262].map { $0 % Int32(c.vocabSize) }
            let tokens = try runner.greedy(prompt: prompt, maxNewTokens: 16, eosTokenID: nil,
                                           cache: KVCache(pool: KVBlockPool(config: c, blockTokens: 16)))
            let pool = KVBlockPool(config: c, blockTokens: 8)
            let caches = (0..<3).map { _ in KVCache(pool: pool) }
            var steps: [[Float]] = []
            steps.append(try runner.forward(caches.enumerated().map { i, cache in
                ForwardRequest(cache: cache, tokens: (0..<(20 - 5 * i)).map { Int32(($0 * 37 + i) % c.vocabSize) }, logits: .all)
            }).flatMap(\.logits))
            for s in 0..<6 {
                steps.append(try runner.forward(caches.enumerated().map { i, cache in
                    ForwardRequest(cache: cache, tokens: [Int32((s * 101 + i * 7) % c.vocabSize)], logits: .all)
                }).flatMap(\.logits))
            }
            return (tokens, steps)
        }
    }
}
