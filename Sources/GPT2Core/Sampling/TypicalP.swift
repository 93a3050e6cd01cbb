// TypicalP — transformers' TypicalLogitsWarper (typical_p, "locally typical sampling"): sorts tokens
// by |−log p − H| (distance of their surprisal from the entropy H), keeps the smallest prefix whose
// probability mass reaches `mass` (the token that crosses it included; ties with it too), and always
// the first minTokensToKeep. Sampling only; last in the warper chain.
import Foundation

public struct TypicalP: LogitsProcessor {
    public let mass: Float
    public let minTokensToKeep: Int

    public init(_ mass: Float, minTokensToKeep: Int = 1) {
        requireValid { try Self.validate(mass, minTokensToKeep: minTokensToKeep) }
        self.mass = mass; self.minTokensToKeep = minTokensToKeep
    }

    public static func validate(_ mass: Float, minTokensToKeep: Int = 1) throws {
        guard mass > 0 && mass < 1 else { throw SamplingParameterError("typical_p", "has to be a float > 0 and < 1, but is \(mass)") }
        guard minTokensToKeep >= 1 else { throw SamplingParameterError("min_tokens_to_keep", "has to be a positive integer, but is \(minTokensToKeep)") }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        let V = logits.count
        guard V > 0 else { return }
        let lse = Sampling.logSumExp(logits)
        guard lse.isFinite else { return }
        // log p, p, entropy (−Σ p log p over tokens with p > 0, as nansum skips 0·−∞).
        var logp = [Double](repeating: -.infinity, count: V)
        var entropy = 0.0
        for i in 0..<V where logits[i] > -.infinity {
            logp[i] = Double(logits[i]) - lse
            entropy -= logp[i] * Foundation.exp(logp[i])
        }
        let shifted = logp.map { abs(-$0 - entropy) }   // +∞ for filtered tokens
        let order = (0..<V).sorted { shifted[$0] < shifted[$1] || (shifted[$0] == shifted[$1] && $0 < $1) }
        // Index of the first sorted token at which the cumulative probability reaches `mass`.
        var cum = 0.0
        var lastIndex = 0
        let target = Double(mass)
        for idx in order {
            cum += logp[idx] > -.infinity ? Foundation.exp(logp[idx]) : 0
            if cum < target { lastIndex += 1 } else { break }
        }
        lastIndex = min(lastIndex, V - 1)
        let threshold = shifted[order[lastIndex]]
        for (rank, idx) in order.enumerated() where rank >= minTokensToKeep && shifted[idx] > threshold {
            logits[idx] = -.infinity
        }
    }
}
