// RepetitionPenalty — transformers' RepetitionPenaltyLogitsProcessor: every id present anywhere in
// the history (prompt included) is penalised once, whatever its count: score < 0 ? score·p : score/p.

public struct RepetitionPenalty: LogitsProcessor {
    public let penalty: Float
    public init(_ penalty: Float) { precondition(penalty > 0); self.penalty = penalty }

    public func process(_ logits: inout [Float], history: [Int32]) {
        var seen = Set<Int32>()
        for id in history where seen.insert(id).inserted && Int(id) < logits.count {
            let s = logits[Int(id)]
            logits[Int(id)] = s < 0 ? s * penalty : s / penalty
        }
    }
}
