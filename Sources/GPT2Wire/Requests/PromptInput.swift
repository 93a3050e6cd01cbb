// PromptInput — the text-or-token-ids input shared by generate and score.

import GPT2JSON

/// Exactly one of "prompt"/"text" (a string) or "tokens" (token ids) per request.
public enum PromptInput: Sendable, Equatable {
    case text(String)
    case tokens([Int])

    /// Reads the exclusive pair `textKey` / "tokens"; both must be non-empty.
    static func read(_ r: FieldReader, textKey: String) throws(WireError) -> PromptInput {
        try r.requireExactlyOne(textKey, "tokens")
        if let t = try r.optionalString(textKey, nonEmpty: true) { return .text(t) }
        return .tokens(try r.intArray("tokens", elementRange: 0...Int(Int32.max), nonEmpty: true))
    }

    func write(into o: inout JSONObject, textKey: String) {
        switch self {
        case .text(let t): o[textKey] = .string(t)
        case .tokens(let ids): o["tokens"] = ids.json
        }
    }
}
