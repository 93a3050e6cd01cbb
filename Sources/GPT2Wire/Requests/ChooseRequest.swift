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

    public init(model: String, prompt: String? = nil, choices: [String], mcTokenIndex: [Int]? = nil) {
        self.model = model
        self.prompt = prompt
        self.choices = choices
        self.mcTokenIndex = mcTokenIndex
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        model = try r.string("model", nonEmpty: true)
        prompt = try r.optionalString("prompt")
        let a = try r.array("choices")
        guard a.count >= 2, a.count <= Self.maxChoices else {
            throw .invalidField("choices", expected: "an array of 2 to \(Self.maxChoices) strings", got: r.value("choices"))
        }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            guard let s = e.stringValue else { throw .invalidField("choices[\(i)]", expected: "a string", got: e) }
            out.append(s)
        }
        choices = out
        mcTokenIndex = try r.optionalIntArray("mc_token_index", elementRange: 0...Int(Int32.max))
        if let m = mcTokenIndex, m.count != choices.count {
            throw WireError(.invalidField, "field 'mc_token_index': expected one index per choice (\(choices.count)), got \(m.count)", field: "mc_token_index")
        }
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["model": .string(model)]
        o.set("prompt", prompt.map { .string($0) })
        o["choices"] = choices.json
        o.set("mc_token_index", mcTokenIndex.map { $0.json })
        return o
    }
}
