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

    public static let wireDefaults = DetokenizeRequest(model: "", tokens: [])
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        .required("tokens", \.tokens, .tokenIDs()),
        .defaulted("skip_special_tokens", \.skipSpecialTokens, .bool),
    ]

    public init(model: String, tokens: [Int], skipSpecialTokens: Bool = false) {
        self.model = model
        self.tokens = tokens
        self.skipSpecialTokens = skipSpecialTokens
    }
}
