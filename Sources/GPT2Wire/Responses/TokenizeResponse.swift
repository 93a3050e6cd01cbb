// tokenize result: {tokens, offsets}.

import GPT2JSON

public struct TokenizeResponse: WireResponse {
    public var tokens: [Int]
    /// One [start, end) span per token, in Unicode code points of the request's text (transformers'
    /// offset_mapping; GPT-2 spans include the leading space).
    public var offsets: [TextSpan]

    public static let wireDefaults = TokenizeResponse(tokens: [], offsets: [])
    public static let wireFields: [WireField<Self>] = [
        .required("tokens", \.tokens, .intArray()),
        .required("offsets", \.offsets, .array(of: .span)),
    ]

    public init(tokens: [Int], offsets: [TextSpan]) {
        self.tokens = tokens
        self.offsets = offsets
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

extension WireCodec where Value == TextSpan {
    /// [start, end].
    static var span: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let a = v.arrayValue, a.count == 2, let s = a[0].intValue, let t = a[1].intValue else {
                throw .invalidField(f, expected: "[start, end]", got: v)
            }
            return TextSpan(start: Int(s), end: Int(t))
        }, write: { .array([.int(Int64($0.start)), .int(Int64($0.end))]) })
    }
}
