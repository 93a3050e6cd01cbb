// detokenize result: {text}.

import GPT2JSON

public struct DetokenizeResponse: WireResponse {
    /// Decoded text; byte sequences that are not UTF-8 become U+FFFD (as transformers' decode).
    public var text: String

    public init(text: String) { self.text = text }

    public init(from body: JSONObject) throws(WireError) { text = try FieldReader(body).string("text") }

    public func json() -> JSONObject { ["text": .string(text)] }
}
