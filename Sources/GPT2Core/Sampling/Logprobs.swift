// Logprobs — top-N alternatives of a next-token distribution, as (token, log-probability) pairs.
// Works on raw logits (vLLM's default `logprobs`, transformers' `output_logits`) or on processed
// ones (transformers' `output_scores`); filtered (−∞) tokens are never listed.

public enum Logprobs {
    /// One alternative (named apart from GPT2Wire's TokenLogprob, which the daemon also imports).
    public struct Entry: Sendable, Equatable {
        public var token: Int32
        /// Natural log of the probability.
        public var logprob: Double
        public init(token: Int32, logprob: Double) { self.token = token; self.logprob = logprob }
    }

    /// The `count` most likely tokens of softmax(`logits`), most likely first (lower id first on ties).
    /// `logSumExp`: `Sampling.logSumExp(logits)` when the caller has it already.
    public static func top(_ logits: [Float], count: Int, logSumExp known: Double? = nil) -> [Entry] {
        guard count > 0, !logits.isEmpty else { return [] }
        let lse = known ?? Sampling.logSumExp(logits)
        // Keep a small sorted buffer: O(V · count).
        var best: [(Int, Float)] = []
        best.reserveCapacity(count + 1)
        for (i, v) in logits.enumerated() where v > -.infinity {
            if best.count == count, let last = best.last, !(v > last.1) { continue }
            var pos = best.count
            while pos > 0 && v > best[pos - 1].1 { pos -= 1 }
            best.insert((i, v), at: pos)
            if best.count > count { best.removeLast() }
        }
        return best.map { Entry(token: Int32($0.0), logprob: Double($0.1) - lse) }
    }

    /// log softmax(`logits`) at `token` (−∞ when filtered).
    public static func logprob(of token: Int, in logits: [Float]) -> Double {
        Sampling.logSoftmax(logits, at: token)
    }
}
