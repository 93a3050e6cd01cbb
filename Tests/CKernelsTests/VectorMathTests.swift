// ck_gelu_tanh and ck_exp_shifted_sum against double-precision formulas, on lengths that end inside a
// 16-lane vector (the masked tail) and on one element.
import CKernels
import Foundation
import Testing

@Suite struct VectorMathTests {
    static let lengths = [1, 15, 16, 17, 1037]

    /// gelu_new in double: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }

    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: lengths)
    func geluTanh(_ n: Int) {
        var rng = SeededRandom(seed: UInt64(n))
        let input = rng.floats(n, -10, 10) + [0, 30, -30]
        var x = input
        ck_gelu_tanh(&x, input.count)
        for (v, got) in zip(input, x) {
            let want = Self.gelu(Double(v))
            // exp's polynomial is good to ≈ 2e-7 relative; tanh from it loses a little near 0 and ±1.
            #expect(abs(Double(got) - want) <= 2e-6 * max(1, abs(Double(v))), "gelu(\(v)) = \(got), want \(want)")
        }
    }

    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: lengths)
    func expShiftedSum(_ n: Int) {
        var rng = SeededRandom(seed: 100 + UInt64(n))
        let input = rng.floats(n, -20, 5)
        let shift = input.max()!
        var x = input + [99]  // one element past n: must stay
        let sum = ck_exp_shifted_sum(&x, n, shift)
        var want = 0.0
        for i in 0..<n {
            // The kernel subtracts in float32 (as here); only its exp is approximate.
            let e = exp(Double(input[i] - shift))
            want += e
            #expect(abs(Double(x[i]) - e) <= 1e-6 * e, "exp(\(input[i]) − \(shift)) = \(x[i]), want \(e)")
        }
        #expect(abs(Double(sum) - want) <= 1e-5 * want, "sum \(sum), want \(want)")
        #expect(x[n] == 99)
    }
}
