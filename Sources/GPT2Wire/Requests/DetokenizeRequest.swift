// detokenize — {model, tokens, skip_special_tokens?} → {text}.

import GPT2JSON

public struct DetokenizeRequest: WireRequest {
    public typealias Response = DetokenizeResponse
    public static let op = "detokenize"

    public var model: String
    /// Token ids ≥ 0 (may be empty); ids outside the model's vocabulary are `invalid_field` from the daemon.
    public var tokens: [Int]
    /// Drop special tokens (`<|endoftext|>`) from the text, as transformers' `decode(skip_special_tokens=)`. Default false.
    public var skipSpecialTokens: Bool

    public init(model: String, tokens: [Int], skipSpecialTokens: Bool = false) {
        self.model = model
        self.tokens = tokens
        self.skipSpecialTokens = skipSpecialTokens
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        model = try r.string("model", nonEmpty: true)
        tokens = try r.intArray("tokens", elementRange: 0...Int(Int32.max))
        skipSpecialTokens = try r.bool("skip_special_tokens", default: false)
    }

    public func json() -> JSONObject {
        ["model": .string(model), "tokens": tokens.json, "skip_special_tokens": .bool(skipSpecialTokens)]
    }
}
