// TokenSampler — picks the next token the way transformers' generate() does: repetition penalty,
// then (sampling only) temperature → top-k → top-p, then argmax (greedy) or a categorical draw
// from a per-request seeded generator (so a seed reproduces whatever else shares the batch).
import Foundation

public struct SamplingParameters: Sendable, Equatable {
    public var doSample: Bool
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var repetitionPenalty: Float
    /// nil: a random seed.
    public var seed: UInt64?

    /// transformers' generate() defaults: greedy; when sampling T 1.0, top_k 50, top_p 1.0.
    public init(doSample: Bool = false, temperature: Float = 1, topK: Int = 50, topP: Float = 1,
                repetitionPenalty: Float = 1, seed: UInt64? = nil) {
        self.doSample = doSample; self.temperature = temperature; self.topK = topK; self.topP = topP
        self.repetitionPenalty = repetitionPenalty; self.seed = seed
    }
}

public struct TokenSampler {
    public let parameters: SamplingParameters
    /// The processors in transformers' order (those that are no-ops are left out, as generate() does).
    public let processors: [any LogitsProcessor]
    private var rng: Xoshiro256

    public init(_ p: SamplingParameters) {
        parameters = p
        var list: [any LogitsProcessor] = []
        if p.repetitionPenalty != 1 { list.append(RepetitionPenalty(p.repetitionPenalty)) }
        if p.doSample {
            if p.temperature != 1 { list.append(Temperature(p.temperature)) }
            if p.topK != 0 { list.append(TopK(p.topK)) }
            if p.topP < 1 { list.append(TopP(p.topP)) }
        }
        processors = list
        rng = Xoshiro256(seed: p.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// The next token for raw `logits` (V values) after `history`. `logits` is left processed.
    public mutating func next(_ logits: inout [Float], history: [Int32]) -> Int {
        processors.process(&logits, history: history)
        if !parameters.doSample { return Sampling.argmax(logits) }
        // Categorical draw from softmax(logits).
        let m = logits.max() ?? 0
        var total = 0.0
        var weights = [Double](repeating: 0, count: logits.count)
        for i in logits.indices where logits[i] > -.infinity {
            let w = Foundation.exp(Double(logits[i] - m)); weights[i] = w; total += w
        }
        var u = rng.nextUnitDouble() * total
        var last = Sampling.argmax(logits)
        for i in weights.indices where weights[i] > 0 {
            last = i
            u -= weights[i]
            if u < 0 { return i }
        }
        return last
    }
}

/// xoshiro256** seeded through SplitMix64: fast, small, reproducible across platforms.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

extension Sampling {
    /// log-softmax of `logits` at `index`: logits[index] − logsumexp(logits).
    public static func logSoftmax(_ logits: [Float], at index: Int) -> Double {
        logits[index].isFinite ? Double(logits[index]) - logSumExp(logits) : -.infinity
    }

    /// log Σ exp(x), computed in Double around the maximum.
    public static func logSumExp(_ x: [Float]) -> Double {
        let m = Double(x.max() ?? 0)
        var s = 0.0
        for v in x { s += Foundation.exp(Double(v) - m) }
        return m + Foundation.log(s)
    }
}
