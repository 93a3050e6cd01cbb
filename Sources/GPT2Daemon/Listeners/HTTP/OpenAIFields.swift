// OpenAIFields — typed reads of an OpenAI request body (a JSON object). Each read names its field in
// the error (`param`), so a wrong type or range is a 400 that says which parameter and what was
// expected. An absent field and an explicit null both mean "not given", as in OpenAI's API.
import GPT2JSON

struct OpenAIFields: Sendable {
    let body: JSONObject

    /// Parses a request body: malformed JSON or a non-object is a 400.
    init(parsing bytes: [UInt8]) throws(OpenAIError) {
        let value: JSON
        do {
            value = try JSON.parse(bytes)
        } catch {
            throw OpenAIError.invalid("the request body is not valid JSON: \(error)", param: nil, code: "invalid_json")
        }
        guard case .object(let o) = value else {
            throw OpenAIError.invalid("the request body must be a JSON object, not \(value.typeName)", param: nil, code: "invalid_json")
        }
        body = o
    }

    /// The value of `key` unless it is absent or null.
    func value(_ key: String) -> JSON? {
        guard let v = body[key], !v.isNull else { return nil }
        return v
    }

    func wrongType(_ key: String, _ expected: String, _ got: JSON) -> OpenAIError {
        .invalid("'\(key)' must be \(expected), not \(got.typeName)", param: key, code: "invalid_type")
    }

    func outOfRange(_ key: String, _ expected: String) -> OpenAIError {
        .invalid("'\(key)' must be \(expected)", param: key, code: "invalid_value")
    }

    func string(_ key: String) throws(OpenAIError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    func requiredString(_ key: String) throws(OpenAIError) -> String {
        guard let s = try string(key) else {
            throw OpenAIError.invalid("'\(key)' is required", param: key, code: "missing_field")
        }
        return s
    }

    func bool(_ key: String) throws(OpenAIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw wrongType(key, "a boolean", v) }
        return b
    }

    func int(_ key: String, _ range: ClosedRange<Int64>) throws(OpenAIError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else { throw wrongType(key, "an integer", v) }
        guard range.contains(i) else { throw outOfRange(key, "an integer in \(range.lowerBound)...\(range.upperBound)") }
        return i
    }

    func number(_ key: String, _ range: ClosedRange<Double>) throws(OpenAIError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue else { throw wrongType(key, "a number", v) }
        guard d.isFinite, range.contains(d) else { throw outOfRange(key, "a number in \(range.lowerBound)...\(range.upperBound)") }
        return d
    }

    /// A field gpt2d refuses (a feature GPT-2 or gpt2d lacks): any non-null value is a 400 with `why`.
    func refuse(_ key: String, _ why: String) throws(OpenAIError) {
        if value(key) != nil { throw OpenAIError.invalid("'\(key)' is not supported: \(why)", param: key, code: "unsupported_parameter") }
    }

    /// An OpenAI input: a string, an array of strings, an array of token ids or an array of such
    /// arrays — one `Prompt` per element (a single string or token array is one).
    func prompts(_ key: String) throws(OpenAIError) -> [Prompt]? {
        guard let v = value(key) else { return nil }
        let expected = "a string, an array of strings, an array of token ids or an array of token-id arrays"
        switch v {
        case .string(let s):
            return [.text(s)]
        case .array(let items):
            guard let first = items.first else { throw outOfRange(key, "a non-empty array") }
            if case .int = first { return [.tokens(try tokenIDs(key, items))] }
            var out: [Prompt] = []
            for item in items {
                switch item {
                case .string(let s): out.append(.text(s))
                case .array(let ids) where !ids.isEmpty: out.append(.tokens(try tokenIDs(key, ids)))
                case .array: throw outOfRange(key, "made of non-empty token-id arrays")
                default: throw wrongType(key, expected, item)
                }
            }
            return out
        default:
            throw wrongType(key, expected, v)
        }
    }

    private func tokenIDs(_ key: String, _ items: [JSON]) throws(OpenAIError) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(items.count)
        for item in items {
            guard let i = item.intValue else { throw wrongType(key, "token ids (integers)", item) }
            guard i >= 0, i <= Int64(Int32.max) else { throw outOfRange(key, "made of token ids ≥ 0") }
            ids.append(Int(i))
        }
        return ids
    }
}
