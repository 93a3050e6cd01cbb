// embed result: {embeddings: [[number]], dims} — one vector of n_embd numbers per input text.

import GPT2JSON

public struct EmbedResponse: WireResponse {
    public var embeddings: [[Float]]
    /// The length of each embedding (the model's n_embd).
    public var dims: Int

    public init(embeddings: [[Float]], dims: Int) {
        self.embeddings = embeddings
        self.dims = dims
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        let rows = try r.array("embeddings")
        var out: [[Float]] = []
        for (i, row) in rows.enumerated() {
            guard let a = row.arrayValue else { throw .invalidField("embeddings[\(i)]", expected: "an array of numbers", got: row) }
            var v: [Float] = []
            v.reserveCapacity(a.count)
            for e in a {
                // A non-finite value arrives as null.
                if e.isNull { v.append(.nan); continue }
                guard let d = e.doubleValue else { throw .invalidField("embeddings[\(i)]", expected: "an array of numbers", got: e) }
                v.append(Float(d))
            }
            out.append(v)
        }
        embeddings = out
        dims = try r.int("dims", range: 0...Int.max)
    }

    public func json() -> JSONObject {
        ["embeddings": .array(embeddings.map { .array($0.map(JSON.float)) }), "dims": .int(Int64(dims))]
    }

    public static func == (a: EmbedResponse, b: EmbedResponse) -> Bool {
        a.dims == b.dims && a.embeddings.count == b.embeddings.count
            && zip(a.embeddings, b.embeddings).allSatisfy { x, y in
                x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
            }
    }
}
