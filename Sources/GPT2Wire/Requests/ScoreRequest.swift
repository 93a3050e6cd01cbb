// score — log-probability of each token of a text under the model, and perplexity.

import GPT2JSON

public struct ScoreRequest: WireRequest {
    public typealias Response = ScoreResponse
    public static let op = "score"

    public static let maxTopLogprobs = 20

    public var model: String
    /// "text" (non-empty string) or "tokens" (non-empty ids), exactly one.
    public var input: PromptInput
    /// An open session whose KV cache is reused for the longest common token prefix.
    public var session: String?
    /// 0 ... 20: also return the N most likely tokens at each position. Default 0.
    public var topLogprobs: Int

    public static let wireDefaults = ScoreRequest(model: "", input: .text(""))
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        PromptInput.field(textKey: "text", \.input),
        .optional("session", \.session, .nonEmptyString),
        .defaulted("top_logprobs", \.topLogprobs, .int(0...Self.maxTopLogprobs)),
    ]

    public init(model: String, input: PromptInput, session: String? = nil, topLogprobs: Int = 0) {
        self.model = model
        self.input = input
        self.session = session
        self.topLogprobs = topLogprobs
    }
}
