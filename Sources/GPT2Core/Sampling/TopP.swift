// TopP — transformers' TopPLogitsWarper (nucleus): sort ascending, softmax, cumulative sum; remove
// tokens whose cumulative probability is ≤ 1 − top_p, always keeping the last minTokensToKeep.
import Foundation

public struct TopP: LogitsProcessor {
    public let p: Float
    public let minTokensToKeep: Int
    public init(_ p: Float, minTokensToKeep: Int = 1) { precondition(p > 0 && p <= 1); self.p = p; self.minTokensToKeep = minTokensToKeep }

    public func process(_ logits: inout [Float], history: [Int32]) {
        guard p < 1 else { return }
        let order = logits.indices.sorted { logits[$0] < logits[$1] }  // ascending
        let m = logits.max() ?? 0
        guard m.isFinite else { return }
        var probs = order.map { Double(Foundation.exp(logits[$0] - m)) }
        let z = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= z }
        var cum = 0.0
        let cut = 1 - Double(p)
        let keepFrom = logits.count - minTokensToKeep
        for (rank, idx) in order.enumerated() {
            cum += probs[rank]
            if cum <= cut && rank < keepFrom { logits[idx] = -.infinity }
        }
    }
}
