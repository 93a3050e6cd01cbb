// tokenize — {model, text} → {tokens, offsets}.

import GPT2JSON

public struct TokenizeRequest: WireRequest {
    public typealias Response = TokenizeResponse
    public static let op = "tokenize"

    /// A loaded model's name (its tokenizer is used).
    public var model: String
    /// Any string, may be empty.
    public var text: String

    public init(model: String, text: String) {
        self.model = model
        self.text = text
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        model = try r.string("model", nonEmpty: true)
        text = try r.string("text")
    }

    public func json() -> JSONObject { ["model": .string(model), "text": .string(text)] }
}
