// PromptInput — the text-or-token-ids input shared by generate and score.

import GPT2JSON

/// Exactly one of "prompt"/"text" (a string) or "tokens" (token ids) per request.
public enum PromptInput: Sendable, Equatable {
    case text(String)
    case tokens([Int])

    /// The exclusive pair `textKey` / "tokens" as one field; both must be non-empty.
    static func field<Root>(textKey: String, _ path: WritableKeyPath<Root, PromptInput>) -> WireField<Root> {
        .custom(read: { r, root throws(WireError) in
            try r.requireExactlyOne(textKey, "tokens")
            if let t = try r.optional(textKey, .nonEmptyString) {
                root[keyPath: path] = .text(t)
            } else {
                root[keyPath: path] = .tokens(try r.required("tokens", .tokenIDs(nonEmpty: true)))
            }
        }, write: { root, o in
            switch root[keyPath: path] {
            case .text(let t): o[textKey] = .string(t)
            case .tokens(let ids): o["tokens"] = ids.json
            }
        })
    }
}
