// NoRepeatNGram — transformers' NoRepeatNGramLogitsProcessor (no_repeat_ngram_size): bans every
// token that would complete an n-gram already present anywhere in the history (prompt included).
// With n = 1 every token seen so far is banned.

public struct NoRepeatNGram: LogitsProcessor {
    public let size: Int

    public init(_ size: Int) {
        requireValid { try Self.validate(size) }
        self.size = size
    }

    public static func validate(_ size: Int) throws {
        guard size > 0 else { throw SamplingParameterError("no_repeat_ngram_size", "has to be a strictly positive integer, but is \(size)") }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        let n = size, count = history.count
        guard count >= n else { return }
        // The windows whose first n−1 tokens equal the last n−1 tokens ban their last token.
        let prefixStart = count - (n - 1)
        for start in 0...(count - n) {
            var match = true
            for j in 0..<(n - 1) where history[start + j] != history[prefixStart + j] { match = false; break }
            let banned = Int(history[start + n - 1])
            if match && banned >= 0 && banned < logits.count { logits[banned] = -.infinity }
        }
    }
}
