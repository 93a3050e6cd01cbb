// Every instruction-set level of the small-M kernels (plain C, AVX2 + FMA, AVX-512 — each level this
// CPU has; ck_matmul_*_isa clamps the others to the best available) against a Double-precision
// reference: both weight layouts, F32/F16/BF16 weights, m = 1...16 (past 8, AVX-512's one 16-row KN
// tile; the other bodies split the rows into groups of 8), ragged k and n (vector tails of 8 and 16
// lanes), strided x/y/W, beta 0 over NaN and beta 1. The levels keep their own FMA order, so
// they agree to rounding (bound: 1e-6 of Σ|x·w| per output), not bit for bit.
import CKernels
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct SmallKernelLevelsTests {
    static let levels: [Int32] = [CK_ISA_PLAIN, CK_ISA_AVX2, CK_ISA_AVX512]

    @Test func levelInUseIsTheBestAvailable() {
        let best = CPUFeatures.avx512 ? CK_ISA_AVX512 : CPUFeatures.avx2 ? CK_ISA_AVX2 : CK_ISA_PLAIN
        #expect(ck_isa() == best || ProcessInfo.processInfo.environment["GPT2D_ISA"] != nil)
    }

    @Test(arguments: Array(1...16))
    func everyLevelMatchesReference(_ m: Int) {
        var rng = SplitMix64(seed: UInt64(m))
        for kind: Int32 in [0, CK_HALF_F16, CK_HALF_BF16] {
            for (k, n) in [(37, 53), (300, 70), (17, 9), (64, 33), (768, 100)] {
                for nk in [false, true] {
                    let ldx = k + 3, ldy = n + 2, ldw = (nk ? k : n) + 5, rows = nk ? n : k
                    let x = (0..<(m * ldx)).map { _ in Float.random(in: -1...1, using: &rng) }
                    let bits = HalfWeightKernelTests.randomBits(rows * ldw, kind: kind == CK_HALF_F16 ? .f16 : .bf16, &rng)
                    let w32: [Float] = kind == 0 ? (0..<(rows * ldw)).map { _ in Float.random(in: -1...1, using: &rng) }
                                                 : HalfWeightKernelTests.upcast(bits, kind: kind == CK_HALF_F16 ? .f16 : .bf16)
                    for beta: Float in [0, 1] {
                        let y0: [Float] = beta == 0 ? .init(repeating: .nan, count: m * ldy)
                                                    : (0..<(m * ldy)).map { _ in Float.random(in: -1...1, using: &rng) }
                        // Reference in Double, and Σ|x·w| per output for the bound.
                        var want = [Double](repeating: 0, count: m * n), mag = want
                        for i in 0..<m {
                            for j in 0..<n {
                                var s = 0.0, a = 0.0
                                for p in 0..<k {
                                    let wv = Double(nk ? w32[j * ldw + p] : w32[p * ldw + j])
                                    s += Double(x[i * ldx + p]) * wv; a += abs(Double(x[i * ldx + p]) * wv)
                                }
                                want[i * n + j] = s + (beta == 0 ? 0 : Double(y0[i * ldy + j])); mag[i * n + j] = a + 1
                            }
                        }
                        for level in Self.levels {
                            var y = y0
                            let run: (UnsafeRawPointer) -> Void = { w in
                                (nk ? ck_matmul_nk_isa : ck_matmul_kn_isa)(level, x, m, k, ldx, w, kind, ldw, n, &y, ldy, beta)
                            }
                            if kind == 0 { w32.withUnsafeBytes { run($0.baseAddress!) } }
                            else { bits.withUnsafeBytes { run($0.baseAddress!) } }
                            let label = "level \(level) kind \(kind) \(nk ? "nk" : "kn") m=\(m) k=\(k) n=\(n) beta=\(beta)"
                            var worst = 0.0
                            for i in 0..<m { for j in 0..<n { worst = max(worst, abs(Double(y[i * ldy + j]) - want[i * n + j]) / mag[i * n + j]) } }
                            #expect(worst <= 1e-6, "\(label): \(worst)")
                            // Spare y columns are never written.
                            #expect((0..<m).allSatisfy { i in (n..<ldy).allSatisfy { c in
                                let a = y[i * ldy + c], b = y0[i * ldy + c]; return a == b || (a.isNaN && b.isNaN) } }, "\(label): wrote past n")
                        }
                    }
                }
            }
        }
    }
}
