// One of several sequences a `generate` returns (num_return_sequences > 1, or beam search).
import GPT2JSON

public struct GeneratedSequence: Sendable, Equatable {
    public var text: String
    public var tokens: [Int]
    public var finishReason: GenerateResponse.FinishReason
    /// Per-token log-probabilities when requested.
    public var logprobs: [Double?]?
    /// Beam search: transformers' sequences_scores (length-penalised sum of log-probabilities).
    public var score: Double?

    public init(text: String, tokens: [Int], finishReason: GenerateResponse.FinishReason, logprobs: [Double?]? = nil, score: Double? = nil) {
        self.text = text; self.tokens = tokens; self.finishReason = finishReason; self.logprobs = logprobs; self.score = score
    }

    public init(from o: JSONObject) throws(WireError) {
        let r = FieldReader(o)
        text = try r.string("text")
        tokens = try r.intArray("tokens")
        let reason = try r.string("finish_reason")
        guard let fr = GenerateResponse.FinishReason(rawValue: reason) else {
            throw .invalidField("finish_reason", expected: "\"length\", \"stop\" or \"eos\"", got: .string(reason))
        }
        finishReason = fr
        logprobs = try r.optionalArray("logprobs").map { a throws(WireError) in try GenerateResponse.optionalDoubles(a, "logprobs") }
        score = try r.optionalDouble("score")
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["text": .string(text), "tokens": tokens.json, "finish_reason": .string(finishReason.rawValue)]
        o.set("logprobs", logprobs.map { .array($0.map { $0.map(JSON.double) ?? .null }) })
        o.set("score", score.map { .double($0) })
        return o
    }
}
