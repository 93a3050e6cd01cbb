// score result: {tokens, logprobs, perplexity, top_logprobs?}.

import GPT2JSON

public struct ScoreResponse: WireResponse {
    public var tokens: [Int]
    /// log P(tokens[i] | tokens[..<i]); the first is null (nothing conditions it), as is any -inf.
    public var logprobs: [Double?]
    /// exp(-mean(logprobs[1...])); null for a single token.
    public var perplexity: Double?
    /// When requested: per position, the top_logprobs most likely tokens, best first; null at position 0.
    public var topLogprobs: [[TokenLogprob]?]?

    public static let wireDefaults = ScoreResponse(tokens: [], logprobs: [], perplexity: nil)
    public static let wireFields: [WireField<Self>] = [
        .required("tokens", \.tokens, .intArray()),
        .required("logprobs", \.logprobs, .logprobs),
        .nullable("perplexity", \.perplexity, .number()),
        .optional("top_logprobs", \.topLogprobs, .array(of: .array(of: .object(TokenLogprob.self), expected: "an array or null").orNull)),
    ]

    public init(tokens: [Int], logprobs: [Double?], perplexity: Double?, topLogprobs: [[TokenLogprob]?]? = nil) {
        self.tokens = tokens
        self.logprobs = logprobs
        self.perplexity = perplexity
        self.topLogprobs = topLogprobs
    }
}

/// A candidate token and its log-probability.
public struct TokenLogprob: WireObject {
    public var token: Int
    public var logprob: Double?

    public static let wireDefaults = TokenLogprob(token: 0, logprob: nil)
    public static let wireFields: [WireField<Self>] = [
        .required("token", \.token, .int()),
        .nullable("logprob", \.logprob, .number()),
    ]

    public init(token: Int, logprob: Double?) {
        self.token = token
        self.logprob = logprob
    }
}
