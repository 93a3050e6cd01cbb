// ck_log_sum_exp at every level this CPU has against log Σ exp in double: vocabulary-sized rows,
// lengths that end inside an 8-lane vector and a 1024-element chunk, masked (−inf) entries, and the
// non-finite cases the samplers rely on.
import CKernels
import Foundation
import Testing

@Suite struct LogSumExpTests {
    static let levels: [Int32] = [Int32(CK_ISA_PLAIN)] + (ck_has_avx2() != 0 ? [Int32(CK_ISA_AVX2)] : [])

    static func reference(_ x: [Float]) -> Double {
        let m = Double(x.max()!)
        return m + log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
    }

    @Test(arguments: levels, [1, 7, 8, 9, 1023, 1024, 1025, 50257])
    func matchesDoubleReference(level: Int32, n: Int) {
        var rng = SeededRandom(seed: UInt64(n) * 31 + UInt64(level))
        let x = rng.floats(n, -30, 12)
        let got = ck_log_sum_exp_isa(level, x, n)
        let want = Self.reference(x)
        // float32 exponentials (≈ 2e-7 relative) summed in float32 over ≤ 1024 terms: ≤ 1e-6 in the log.
        #expect(abs(got - want) <= 1e-6 * max(1, abs(want)), "n \(n): \(got), want \(want)")
    }

    @Test(arguments: levels)
    func maskedEntriesCountForNothing(level: Int32) {
        var x = [Float](repeating: -.infinity, count: 50257)
        x[3] = 1.5; x[40000] = -2
        let want = Self.reference([1.5, -2])
        #expect(abs(ck_log_sum_exp_isa(level, x, x.count) - want) <= 1e-6)
    }

    @Test(arguments: levels)
    func nonFiniteMaximumIsReturned(level: Int32) {
        let allMasked = [Float](repeating: -.infinity, count: 20)
        #expect(ck_log_sum_exp_isa(level, allMasked, 20) == -.infinity)
        var withInf = [Float](repeating: 0, count: 20)
        withInf[17] = .infinity
        #expect(ck_log_sum_exp_isa(level, withInf, 20) == .infinity)
        #expect(ck_log_sum_exp_isa(level, nil, 0) == -.infinity)
    }
}
