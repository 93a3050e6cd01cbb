// MinP — transformers' MinPLogitsWarper (min_p): removes tokens whose probability is below
// min_p · (probability of the most likely token); the top minTokensToKeep always survive.
// Sampling only; applied after temperature, top-k and top-p.
import Foundation

public struct MinP: LogitsProcessor {
    public let p: Float
    public let minTokensToKeep: Int

    public init(_ p: Float, minTokensToKeep: Int = 1) {
        requireValid { try Self.validate(p, minTokensToKeep: minTokensToKeep) }
        self.p = p; self.minTokensToKeep = minTokensToKeep
    }

    public static func validate(_ p: Float, minTokensToKeep: Int = 1) throws {
        guard p >= 0 && p <= 1 else { throw SamplingParameterError("min_p", "has to be a float in the [0, 1] interval, but is \(p)") }
        guard minTokensToKeep >= 1 else { throw SamplingParameterError("min_tokens_to_keep", "has to be a positive integer, but is \(minTokensToKeep)") }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        guard let m = logits.max(), m.isFinite, p > 0 else { return }
        // p_i / p_max = exp(l_i − max): remove where that ratio < min_p.
        var keep = Set<Int>()
        if minTokensToKeep > 1 {
            keep = Set(logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(minTokensToKeep))
        } else {
            keep.insert(Sampling.argmax(logits))
        }
        let threshold = Double(p)
        for i in logits.indices where !keep.contains(i) {
            if Foundation.exp(Double(logits[i]) - Double(m)) < threshold { logits[i] = -.infinity }
        }
    }
}
