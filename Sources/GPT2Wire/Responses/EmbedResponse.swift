// embed result: {embeddings: [[number]], dims} — one vector of n_embd numbers per input text.

import GPT2JSON

public struct EmbedResponse: WireResponse {
    public var embeddings: [[Float]]
    /// The length of each embedding (the model's n_embd).
    public var dims: Int

    public static let wireDefaults = EmbedResponse(embeddings: [], dims: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("embeddings", \.embeddings, .array(of: .array(of: .embeddingValue, expected: "an array of numbers"))),
        .required("dims", \.dims, .int(0...Int.max)),
    ]

    public init(embeddings: [[Float]], dims: Int) {
        self.embeddings = embeddings
        self.dims = dims
    }

    public static func == (a: EmbedResponse, b: EmbedResponse) -> Bool {
        a.dims == b.dims && a.embeddings.count == b.embeddings.count
            && zip(a.embeddings, b.embeddings).allSatisfy { x, y in
                x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
            }
    }
}

extension WireCodec where Value == Float {
    /// One embedding component: float32's shortest form; a non-finite value travels as null (read as NaN).
    static var embeddingValue: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            if v.isNull { return .nan }
            guard let d = v.doubleValue else { throw .invalidField(f, expected: "a number or null", got: v) }
            return Float(d)
        }, write: { JSON.float($0) })
    }
}
