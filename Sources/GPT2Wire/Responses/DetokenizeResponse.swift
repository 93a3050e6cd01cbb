// detokenize result: {text}.

import GPT2JSON

public struct DetokenizeResponse: WireResponse {
    /// Decoded text; byte sequences that are not UTF-8 become U+FFFD (as transformers' decode).
    public var text: String

    public static let wireDefaults = DetokenizeResponse(text: "")
    public static let wireFields: [WireField<Self>] = [.required("text", \.text, .string)]

    public init(text: String) { self.text = text }
}
