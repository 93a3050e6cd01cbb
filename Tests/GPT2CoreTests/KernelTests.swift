// Kernels against scalar Double formulas: vector exp/tanh accuracy and every activation.
import Foundation
import Testing
@testable import GPT2Core

@Suite struct KernelTests {
    @Test func vectorExpAndTanhAreAccurate() {
        var x: Float = -80
        var worstExp = 0.0, worstTanh = 0.0
        while x < 80 {
            let v = F8((0..<8).map { x + Float($0) * 0.0137 })
            let e = VectorMath.exp(v), t = VectorMath.tanh(v)
            for l in 0..<8 {
                let d = Double(v[l])
                worstExp = max(worstExp, abs(Double(e[l]) - Foundation.exp(d)) / Foundation.exp(d))
                worstTanh = max(worstTanh, abs(Double(t[l]) - Foundation.tanh(d)))
            }
            x += 0.11
        }
        #expect(worstExp < 5e-7)
        #expect(worstTanh < 5e-7)
    }

    @Test(arguments: Activation.allCases)
    func activationMatchesFormula(_ act: Activation) {
        let n = 1001
        let xs = (0..<n).map { Float($0 - 500) / 50 }  // -10 ... 10
        var buf = xs
        buf.withUnsafeMutableBufferPointer { ActivationKernel.apply(act, $0.baseAddress!, count: n) }
        for (x, y) in zip(xs, buf) {
            let d = Double(x)
            let want: Double
            switch act {
            case .geluNew, .geluPytorchTanh: want = 0.5 * d * (1 + tanh(0.7978845608028654 * (d + 0.044715 * d * d * d)))
            case .geluFast: want = 0.5 * d * (1 + tanh(0.7978845608 * d * (1 + 0.044715 * d * d)))
            case .gelu: want = 0.5 * d * (1 + erf(d / 2.0.squareRoot()))
            case .quickGelu: want = d / (1 + exp(-1.702 * d))
            case .relu: want = max(0, d)
            case .silu, .swish: want = d / (1 + exp(-d))
            case .tanh: want = tanh(d)
            case .sigmoid: want = 1 / (1 + exp(-d))
            case .linear: want = d
            }
            #expect(abs(Double(y) - want) < 2e-6 * max(1, abs(want)), "\(act) at \(x)")
        }
    }

    @Test func layerNormMatchesFormula() {
        let c = 37
        let x = (0..<c).map { Float($0 % 7) * 0.3 - 1 }
        let g = (0..<c).map { 1 + Float($0) * 0.01 }, b = (0..<c).map { Float($0) * -0.02 }
        var out = [Float](repeating: 0, count: c)
        LayerNormKernel.row(x, c, g, b, 1e-5, &out)
        let mean = x.map(Double.init).reduce(0, +) / Double(c)
        let v = x.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(c)
        for i in 0..<c {
            let want = (Double(x[i]) - mean) / (v + 1e-5).squareRoot() * Double(g[i]) + Double(b[i])
            #expect(abs(Double(out[i]) - want) < 1e-5)
        }
    }
}

@Suite struct SoftmaxKernelTests {
    /// VectorOps.expShiftedSum (CKernels' AVX-512 exp, or the Swift one) against Double, tails included.
    @Test(arguments: [1, 15, 16, 17, 100, 1025])
    func expShiftedSumMatchesDouble(_ n: Int) {
        let xs = (0..<n).map { Float($0 % 97) * 0.9 - 60 }  // −60 ... 26
        let shift = xs.max()!
        var buf = xs
        let sum = buf.withUnsafeMutableBufferPointer { VectorOps.expShiftedSum($0.baseAddress!, n, shift: shift) }
        var want = 0.0
        for (x, y) in zip(xs, buf) {
            let e = Foundation.exp(Double(x) - Double(shift))
            want += e
            #expect(abs(Double(y) - e) <= 5e-7 * e + 1e-30, "exp(\(x) − \(shift))")
        }
        #expect(abs(Double(sum) - want) <= 1e-6 * want)
    }
}
