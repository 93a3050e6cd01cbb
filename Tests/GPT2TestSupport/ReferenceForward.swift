// ReferenceForward — a naive GPT-2 forward pass in Double, written straight from the math
// (transformers' GPT2LMHeadModel, eval mode). No cache, no batching, no BLAS: an algorithmic
// reference for the fast runner (the llm.c habit of keeping matmul_forward_naive beside the tiled one).
import Foundation
import GPT2Core

public enum ReferenceForward {
    /// Logits (T, V) and final hidden states (T, C) for one sequence at positions 0..<T.
    public static func run(_ cfg: GPT2Config, _ w: GPT2Weights, tokens: [Int]) -> (logits: [[Double]], hidden: [[Double]]) {
        let C = cfg.nEmbd, T = tokens.count, NH = cfg.nHead, HD = cfg.headDim, F = cfg.nInner
        func v(_ t: Tensor, _ i: Int) -> Double { Double(t.data[i]) }
        func layerNorm(_ x: [Double], _ g: Tensor, _ b: Tensor) -> [Double] {
            let mean = x.reduce(0, +) / Double(x.count)
            let varc = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
            let r = 1 / (varc + Double(cfg.layerNormEpsilon)).squareRoot()
            return (0..<x.count).map { (x[$0] - mean) * r * v(g, $0) + v(b, $0) }
        }
        // y = x·W + b with W (in, out) row-major.
        func conv1D(_ x: [Double], _ wt: Tensor, _ b: Tensor, out: Int) -> [Double] {
            var y = (0..<out).map { v(b, $0) }
            for i in 0..<x.count where x[i] != 0 { for o in 0..<out { y[o] += x[i] * v(wt, i * out + o) } }
            return y
        }
        func act(_ x: Double) -> Double {
            switch cfg.activation {
            case .geluNew, .geluPytorchTanh: return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            case .geluFast: return 0.5 * x * (1 + tanh(0.7978845608 * x * (1 + 0.044715 * x * x)))
            case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            case .quickGelu: return x / (1 + exp(-1.702 * x))
            case .relu: return max(0, x)
            case .silu, .swish: return x / (1 + exp(-x))
            case .tanh: return tanh(x)
            case .sigmoid: return 1 / (1 + exp(-x))
            case .linear: return x
            }
        }
        var xs: [[Double]] = (0..<T).map { t in (0..<C).map { v(w.wte, tokens[t] * C + $0) + v(w.wpe, t * C + $0) } }
        for (l, lw) in w.layers.enumerated() {
            let qkv = xs.map { conv1D(layerNorm($0, lw.ln1Weight, lw.ln1Bias), lw.attnQKVWeight, lw.attnQKVBias, out: 3 * C) }
            var scale = cfg.scaleAttnWeights ? 1 / Double(HD).squareRoot() : 1
            if cfg.scaleAttnByInverseLayerIdx { scale /= Double(l + 1) }
            var heads = [[Double]](repeating: [Double](repeating: 0, count: C), count: T)
            for h in 0..<NH {
                for i in 0..<T {
                    var s = (0...i).map { j in (0..<HD).reduce(0.0) { $0 + qkv[i][h * HD + $1] * qkv[j][C + h * HD + $1] } * scale }
                    let m = s.max()!
                    s = s.map { exp($0 - m) }
                    let z = s.reduce(0, +)
                    for d in 0..<HD { heads[i][h * HD + d] = (0...i).reduce(0.0) { $0 + s[$1] / z * qkv[$1][2 * C + h * HD + d] } }
                }
            }
            for t in 0..<T {
                let a = conv1D(heads[t], lw.attnProjWeight, lw.attnProjBias, out: C)
                for c in 0..<C { xs[t][c] += a[c] }
                let hid = conv1D(layerNorm(xs[t], lw.ln2Weight, lw.ln2Bias), lw.mlpFCWeight, lw.mlpFCBias, out: F).map(act)
                let m = conv1D(hid, lw.mlpProjWeight, lw.mlpProjBias, out: C)
                for c in 0..<C { xs[t][c] += m[c] }
            }
        }
        let hidden = xs.map { layerNorm($0, w.lnFWeight, w.lnFBias) }
        let V = cfg.vocabSize
        let logits = hidden.map { h in (0..<V).map { r in (0..<C).reduce(0.0) { $0 + h[$1] * v(w.lmHead, r * C + $1) } } }
        return (logits, hidden)
    }
}
