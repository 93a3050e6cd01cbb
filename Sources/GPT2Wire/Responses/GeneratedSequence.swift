// One of several sequences a `generate` returns (num_return_sequences > 1, or beam search).
import GPT2JSON

public struct GeneratedSequence: WireObject {
    public var text: String
    public var tokens: [Int]
    public var finishReason: GenerateResponse.FinishReason
    /// Per-token log-probabilities when requested.
    public var logprobs: [Double?]?
    /// Beam search: transformers' sequences_scores (length-penalised sum of log-probabilities).
    public var score: Double?

    public static let wireDefaults = GeneratedSequence(text: "", tokens: [], finishReason: .length)
    public static let wireFields: [WireField<Self>] = [
        .required("text", \.text, .string),
        .required("tokens", \.tokens, .intArray()),
        .required("finish_reason", \.finishReason, .finishReason),
        .optional("logprobs", \.logprobs, .logprobs),
        .optional("score", \.score, .number()),
    ]

    public init(text: String, tokens: [Int], finishReason: GenerateResponse.FinishReason, logprobs: [Double?]? = nil, score: Double? = nil) {
        self.text = text; self.tokens = tokens; self.finishReason = finishReason; self.logprobs = logprobs; self.score = score
    }
}
