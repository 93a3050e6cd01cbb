// LogitsProcessor — one step of transformers' logits processing, applied in place.
// Processors compose in a list applied in order (LogitsProcessorList); a filtered token gets −∞.

public protocol LogitsProcessor: Sendable {
    /// Rewrites `logits` (V values) for the next token given every token so far (prompt + generated).
    func process(_ logits: inout [Float], history: [Int32])
}

extension Array where Element == any LogitsProcessor {
    /// Applies every processor in order.
    public func process(_ logits: inout [Float], history: [Int32]) {
        for p in self { p.process(&logits, history: history) }
    }
}
