// tokenize result: {tokens, offsets}.

import GPT2JSON

public struct TokenizeResponse: WireResponse {
    public var tokens: [Int]
    /// One [start, end) span per token, in Unicode code points of the request's text (transformers'
    /// offset_mapping; GPT-2 spans include the leading space).
    public var offsets: [TextSpan]

    public init(tokens: [Int], offsets: [TextSpan]) {
        self.tokens = tokens
        self.offsets = offsets
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        tokens = try r.intArray("tokens")
        var spans = [TextSpan]()
        for (i, e) in try r.array("offsets").enumerated() {
            guard let a = e.arrayValue, a.count == 2, let s = a[0].intValue, let t = a[1].intValue else {
                throw .invalidField("offsets[\(i)]", expected: "[start, end]", got: e)
            }
            spans.append(TextSpan(start: Int(s), end: Int(t)))
        }
        offsets = spans
    }

    public func json() -> JSONObject {
        ["tokens": tokens.json, "offsets": .array(offsets.map { [.int(Int64($0.start)), .int(Int64($0.end))] })]
    }
}

/// A half-open range of code points, [start, end).
public struct TextSpan: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}
