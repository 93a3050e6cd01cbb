// tokenize — {model, text} → {tokens, offsets}.

import GPT2JSON

public struct TokenizeRequest: WireRequest {
    public typealias Response = TokenizeResponse
    public static let op = "tokenize"

    /// A loaded model's name (its tokenizer is used).
    public var model: String
    /// Any string, may be empty.
    public var text: String

    public static let wireDefaults = TokenizeRequest(model: "", text: "")
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        .required("text", \.text, .string),
    ]

    public init(model: String, text: String) {
        self.model = model
        self.text = text
    }
}
