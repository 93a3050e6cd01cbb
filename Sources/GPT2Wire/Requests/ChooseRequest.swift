// choose — multiple choice with GPT2DoubleHeadsModel's multiple-choice head.

import GPT2JSON

public struct ChooseRequest: WireRequest {
    public typealias Response = ChooseResponse
    public static let op = "choose"

    public static let maxChoices = 64

    public var model: String
    /// Text prepended to every choice (as text, before tokenizing); default "".
    public var prompt: String?
    /// At least 2 choices.
    public var choices: [String]
    /// Per choice, the token (index into prompt + choice tokens) whose hidden state is scored
    /// (transformers' mc_token_ids); default each choice's last token.
    public var mcTokenIndex: [Int]?

    public static let wireDefaults = ChooseRequest(model: "", choices: [])
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        .optional("prompt", \.prompt, .string),
        .required("choices", \.choices, .array(of: .string, count: 2...Self.maxChoices,
                                              countExpected: "an array of 2 to \(Self.maxChoices) strings")),
        .optional("mc_token_index", \.mcTokenIndex, .tokenIDs()),
    ]

    public func validateFields() throws(WireError) {
        if let m = mcTokenIndex, m.count != choices.count {
            throw WireError(.invalidField, "field 'mc_token_index': expected one index per choice (\(choices.count)), got \(m.count)", field: "mc_token_index")
        }
    }

    public init(model: String, prompt: String? = nil, choices: [String], mcTokenIndex: [Int]? = nil) {
        self.model = model
        self.prompt = prompt
        self.choices = choices
        self.mcTokenIndex = mcTokenIndex
    }
}
