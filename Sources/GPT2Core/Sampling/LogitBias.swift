// LogitBias — OpenAI / vLLM `logit_bias`: a per-token value added to the raw logits before every
// other processor (transformers' nearest is SequenceBiasLogitsProcessor with single-token
// sequences, which generate() applies first too). −100 effectively bans a token, +100 forces it.
import GPT2Parameters

public struct LogitBias: LogitsProcessor {
    public let bias: [Int32: Float]

    public init(_ bias: [Int32: Float]) {
        requireValid { try Self.validate(bias) }
        self.bias = bias
    }

    /// Token ids must be non-negative; OpenAI accepts biases in [−100, 100].
    public static func validate(_ bias: [Int32: Float]) throws {
        for (t, b) in bias {
            guard t >= 0 else { throw SamplingParameterError("logit_bias", "has a negative token id \(t)") }
            let r = GenerationParameterRanges.logitBias
            guard r.contains(b) else { throw SamplingParameterError("logit_bias", "value for token \(t) has to be \(r.expected), but is \(b)") }
        }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        for (t, b) in bias where Int(t) < logits.count { logits[Int(t)] += b }
    }
}
