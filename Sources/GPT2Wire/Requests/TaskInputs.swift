// TaskInputs — the input field shared by the task ops (classify, embed).

import GPT2JSON

/// "text" (one string) or "texts" (a non-empty array of strings), exactly one; normalized to a list.
public enum TaskTexts {
    public static let maxTexts = 256

    /// Each element must be a non-empty string (one message for a wrong type and for "").
    static let element = WireCodec<String>(read: { v, f throws(WireError) in
        guard let s = v.stringValue, !s.isEmpty else { throw .invalidField(f, expected: "a non-empty string", got: v) }
        return s
    }, write: { .string($0) })

    static let list = WireCodec<[String]>.array(
        of: element, expected: "a non-empty array of at most \(maxTexts) non-empty strings", count: 1...maxTexts)

    /// The exclusive pair as one field: `texts` gets the list, `batch` whether "texts" was used (and is
    /// written back the same way).
    static func field<Root>(_ texts: WritableKeyPath<Root, [String]>, batch: WritableKeyPath<Root, Bool>) -> WireField<Root> {
        .custom(read: { r, root throws(WireError) in
            try r.requireExactlyOne("text", "texts")
            if let t = try r.optional("text", .nonEmptyString) {
                (root[keyPath: texts], root[keyPath: batch]) = ([t], false)
            } else {
                (root[keyPath: texts], root[keyPath: batch]) = (try r.required("texts", list), true)
            }
        }, write: { root, o in
            if root[keyPath: batch] {
                o["texts"] = root[keyPath: texts].json
            } else {
                o["text"] = .string(root[keyPath: texts].first ?? "")
            }
        })
    }
}
