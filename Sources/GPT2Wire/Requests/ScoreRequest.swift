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

    public init(model: String, input: PromptInput, session: String? = nil, topLogprobs: Int = 0) {
        self.model = model
        self.input = input
        self.session = session
        self.topLogprobs = topLogprobs
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        model = try r.string("model", nonEmpty: true)
        input = try PromptInput.read(r, textKey: "text")
        session = try r.optionalString("session", nonEmpty: true)
        topLogprobs = try r.int("top_logprobs", default: 0, range: 0...Self.maxTopLogprobs)
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["model": .string(model)]
        input.write(into: &o, textKey: "text")
        o.set("session", session.map { .string($0) })
        o["top_logprobs"] = .int(Int64(topLogprobs))
        return o
    }
}
