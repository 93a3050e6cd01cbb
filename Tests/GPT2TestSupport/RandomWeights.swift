// RandomWeights — GPT2Weights filled with deterministic pseudo-random values, held in memory.
// For kernel and forward-pass tests that need no checkpoint file.
import GPT2Core

/// A small deterministic generator (SplitMix64) so tests never depend on the system RNG.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-scale, scale).
    public mutating func float(scale: Float) -> Float {
        Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) * scale
    }
}

/// Owns the buffers behind a GPT2Weights built from random values.
final class OwnedFloats {
    let pointer: UnsafeMutablePointer<Float>
    init(count: Int) { pointer = .allocate(capacity: count) }
    deinit { pointer.deallocate() }
}

public enum RandomWeights {
    /// Weights for `config` with values uniform in ±scale (layer-norm gains near 1).
    public static func make(_ config: GPT2Config, seed: UInt64 = 1, scale: Float = 0.2) -> GPT2Weights {
        var rng = SplitMix64(seed: seed)
        var storage: [AnyObject] = []
        func tensor(_ name: String, _ shape: [Int], around center: Float = 0) -> Tensor {
            let count = shape.reduce(1, *)
            let owned = OwnedFloats(count: count)
            for i in 0..<count { owned.pointer[i] = center + rng.float(scale: scale) }
            storage.append(owned)
            return Tensor(name: name, shape: shape, data: owned.pointer)
        }
        let C = config.nEmbd, F = config.nInner, V = config.vocabSize, P = config.nPositions
        let wte = tensor("wte.weight", [V, C])
        let wpe = tensor("wpe.weight", [P, C])
        var layers: [GPT2LayerWeights] = []
        for i in 0..<config.nLayer {
            let p = "h.\(i)."
            layers.append(GPT2LayerWeights(
                ln1Weight: tensor(p + "ln_1.weight", [C], around: 1), ln1Bias: tensor(p + "ln_1.bias", [C]),
                attnQKVWeight: tensor(p + "attn.c_attn.weight", [C, 3 * C]), attnQKVBias: tensor(p + "attn.c_attn.bias", [3 * C]),
                attnProjWeight: tensor(p + "attn.c_proj.weight", [C, C]), attnProjBias: tensor(p + "attn.c_proj.bias", [C]),
                ln2Weight: tensor(p + "ln_2.weight", [C], around: 1), ln2Bias: tensor(p + "ln_2.bias", [C]),
                mlpFCWeight: tensor(p + "mlp.c_fc.weight", [C, F]), mlpFCBias: tensor(p + "mlp.c_fc.bias", [F]),
                mlpProjWeight: tensor(p + "mlp.c_proj.weight", [F, C]), mlpProjBias: tensor(p + "mlp.c_proj.bias", [C])))
        }
        let lnF = tensor("ln_f.weight", [C], around: 1), lnFB = tensor("ln_f.bias", [C])
        let lmHead = config.tieWordEmbeddings ? wte : tensor("lm_head.weight", [V, C])
        return GPT2Weights(wte: wte, wpe: wpe, layers: layers, lnFWeight: lnF, lnFBias: lnFB, lmHead: lmHead,
                           heads: [:], storedDType: "F32", storage: storage)
    }
}
