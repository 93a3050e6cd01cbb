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

/// The small-M CKernels paths against OpenBLAS on odd shapes (tails in every dimension).
@Suite(.serialized) struct SmallMatmulTests {
    /// Without AVX-512 the kernels are never called (BLAS serves every shape), so there is nothing to compare.
    @Test(.enabled(if: Matmul.smallKernels), arguments: [2, 3, 5, 8, 9, 16])
    func smallKernelsMatchBLAS(_ m: Int) throws {
        for (k, n) in [(37, 53), (768, 2304), (64, 17), (33, 1000)] {
            var rng = SystemRandomNumberGenerator()
            let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let w = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
            for beta: Float in [0, 1] {
                let y0 = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &rng) }
                var fast = y0, ref = y0, fastT = y0, refT = y0
                Matmul.conv1D(x, m: m, k: k, w, n: n, &fast, beta: beta)
                Matmul.linear(x, m: m, k: k, w, n: n, &fastT, beta: beta)  // w read as [n, k]
                Matmul.smallKernels = false
                Matmul.conv1D(x, m: m, k: k, w, n: n, &ref, beta: beta)
                Matmul.linear(x, m: m, k: k, w, n: n, &refT, beta: beta)
                Matmul.smallKernels = true
                let tol = Float(k).squareRoot() * 1e-5
                #expect(zip(fast, ref).allSatisfy { abs($0 - $1) <= tol }, "kn m=\(m) k=\(k) n=\(n) beta=\(beta)")
                #expect(zip(fastT, refT).allSatisfy { abs($0 - $1) <= tol }, "nk m=\(m) k=\(k) n=\(n) beta=\(beta)")
            }
        }
    }
}
