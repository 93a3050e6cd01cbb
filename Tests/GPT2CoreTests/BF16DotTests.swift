// BF16DotTests — bfloat16 weights at matmul precision `medium` (MatmulPrecision, CKernels
// bf16dot.c): the activations rounded to bfloat16 (nearest even, on the bits), then exact products
// with F32 sums. The vdpbf16ps kernels (where the CPU has AVX512_BF16) and the fallback every other
// CPU takes (rounded rows on the exact paths; `BF16Dot.$forceFallback`) both equal the Double
// product of the rounded activations and the weights to F32 rounding, for decode and prefill row
// counts, odd K, ragged N, both layouts and beta 0 / 1; `highest` is untouched.
import CKernels
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct BF16DotTests {
    init() { TestThreads.configure() }

    /// bf16(x) as F32, round to nearest even — written out here, independently of the kernels.
    static func rounded(_ x: Float) -> Float {
        if x.isNaN { return x }
        let u = x.bitPattern
        return Float(bitPattern: (u &+ 0x7FFF &+ ((u >> 16) & 1)) & 0xFFFF_0000)
    }

    @Test func roundingIsNearestEvenAndKeepsSpecialValues() {
        let ulp = Float(bitPattern: 0x3F81_0000) - 1   // 2⁻⁷: bf16's spacing at 1
        let cases: [(Float, Float)] = [
            (1, 1), (1 + ulp / 2, 1),                        // a tie rounds to the even neighbour (1)
            (1 + 3 * ulp / 2, 1 + 2 * ulp),                  // … here up, to 1 + 2·ulp
            (1 + ulp / 2 + ulp / 8, 1 + ulp),                // above the tie: up
            (-2.5e-3, Self.rounded(-2.5e-3)), (.infinity, .infinity), (-.infinity, -.infinity),
            (Float.greatestFiniteMagnitude, .infinity),      // overflows like a cast
        ]
        for (x, want) in cases {
            let out = withUnsafePointer(to: x) { ck_bf16_rounded($0, 1, 1, 1)!.pointee }
            #expect(out == want, "bf16(\(x)) = \(out), want \(want)")
        }
        let nan = withUnsafePointer(to: Float.nan) { ck_bf16_rounded($0, 1, 1, 1)!.pointee }
        #expect(nan.isNaN)
    }

    /// Both layouts through Matmul (as the forward pass calls them) against the Double reference on
    /// the rounded activations, on the hardware kernels (where they exist) and the fallback.
    @Test(arguments: [1, 3, 8, 16, 17, 40])
    func mediumEqualsTheRoundedActivationsProduct(_ m: Int) {
        var rng = SplitMix64(seed: UInt64(100 + m))
        for (k, n) in [(37, 53), (300, 700), (99, 33), (768, 257)] {
            let x = HalfProductTests.random(m * k, &rng)
            let xr = x.map(Self.rounded)
            let bits = HalfWeightKernelTests.randomBits(k * n, kind: .bf16, &rng)
            let w32 = HalfWeightKernelTests.upcast(bits, kind: .bf16)
            for beta: Float in [0, 1] {
                let y0 = HalfProductTests.random(m * n, &rng)
                let wantKN = MatmulTests.reference(m: m, n: n, k: k, alpha: 1, xr, lda: k, w32, ldb: n, transB: false,
                                                   beta: beta, y0, ldc: n)
                let wantNK = MatmulTests.reference(m: m, n: n, k: k, alpha: 1, xr, lda: k, w32, ldb: k, transB: true,
                                                   beta: beta, y0, ldc: n)
                for fallback in [false, true] {
                    var kn = y0, nk = y0
                    BF16Dot.$forceFallback.withValue(fallback) {
                        bits.withUnsafeBytes { raw in
                            let t = Tensor(name: "w", shape: [k, n],
                                           storage: .half(HalfView(kind: .bf16, data: raw.baseAddress!, precision: .medium)))
                            Matmul.conv1D(x, m: m, k: k, t, n: n, &kn, beta: beta)
                            Matmul.linear(x, m: m, k: k, t, n: n, &nk, beta: beta)   // w read as [n, k]
                        }
                    }
                    let label = "m=\(m) k=\(k) n=\(n) beta=\(beta) fallback=\(fallback) hardware=\(BF16Dot.hardware)"
                    #expect(MatmulTests.close(kn, wantKN), "conv1D \(label)")
                    #expect(MatmulTests.close(nk, wantNK), "linear \(label)")
                }
            }
        }
    }

    /// `highest` (the default) and float16 weights never round the activations: the product equals
    /// the exact one bit for bit, and a float16 view ignores `medium`.
    @Test func highestAndFloat16AreUntouched() {
        var rng = SplitMix64(seed: 5)
        let (m, k, n) = (4, 64, 48)
        let x = HalfProductTests.random(m * k, &rng)
        for kind in [HalfView.Kind.bf16, .f16] {
            let bits = HalfWeightKernelTests.randomBits(k * n, kind: kind, &rng)
            var plain = [Float](repeating: 0, count: m * n), viewed = plain
            bits.withUnsafeBytes { raw in
                let exact = Tensor(name: "w", shape: [k, n], storage: .half(HalfView(kind: kind, data: raw.baseAddress!)))
                let view = HalfView(kind: kind, data: raw.baseAddress!, precision: kind == .f16 ? .medium : .highest)
                #expect(view.precision == .highest)
                Matmul.conv1D(x, m: m, k: k, exact, n: n, &plain, beta: 0)
                Matmul.conv1D(x, m: m, k: k, Tensor(name: "w", shape: [k, n], storage: .half(view)), n: n, &viewed, beta: 0)
            }
            #expect(plain == viewed, "\(kind)")
        }
    }

    /// A model loaded at `medium` reports it and its bfloat16 matrices carry it; other types report `highest`.
    @Test func loadOptionsReachTheWeights() throws {
        let dir = Fixtures.model("quality-gpt2")
        let medium = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .bfloat16, matmulPrecision: .medium))
        #expect(medium.weights.matmulPrecision == .medium)
        #expect(medium.weights.lmHead.half?.precision == .medium)
        let int8 = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .int8, matmulPrecision: .medium))
        #expect(int8.weights.matmulPrecision == .highest)
        let f16 = try GPT2Model.load(directory: dir, options: LoadOptions(matmulPrecision: .medium))   // stored F16
        #expect(f16.weights.matmulPrecision == .highest)
    }
}
