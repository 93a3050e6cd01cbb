// TaskInputs — field helpers shared by the task ops (classify, tag, qa, choose, embed).

import GPT2JSON

/// "text" (one string) or "texts" (a non-empty array of strings), exactly one; normalized to a list.
public enum TaskTexts {
    public static let maxTexts = 256

    static func read(_ r: FieldReader) throws(WireError) -> (texts: [String], batch: Bool) {
        try r.requireExactlyOne("text", "texts")
        if let t = try r.optionalString("text", nonEmpty: true) { return ([t], false) }
        guard let v = r.value("texts"), let a = v.arrayValue, !a.isEmpty, a.count <= maxTexts else {
            throw .invalidField("texts", expected: "a non-empty array of at most \(maxTexts) non-empty strings", got: r.value("texts"))
        }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            guard let s = e.stringValue, !s.isEmpty else {
                throw .invalidField("texts[\(i)]", expected: "a non-empty string", got: e)
            }
            out.append(s)
        }
        return (out, true)
    }

    static func write(_ texts: [String], batch: Bool, into o: inout JSONObject) {
        if batch { o["texts"] = texts.json } else { o["text"] = .string(texts.first ?? "") }
    }

    /// A string field restricted to `allowed` values.
    static func choice(_ r: FieldReader, _ key: String, _ allowed: [String], default d: String) throws(WireError) -> String {
        guard let s = try r.optionalString(key) else { return d }
        guard allowed.contains(s) else {
            throw .invalidField(key, expected: "one of " + allowed.map { "\"\($0)\"" }.joined(separator: ", "), got: .string(s))
        }
        return s
    }
}
