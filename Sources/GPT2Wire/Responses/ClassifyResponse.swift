// classify result: {results: [[{label, score}]]} — one list per input text, best first.

import GPT2JSON

public struct ClassifyResponse: WireResponse {
    /// results[i]: the labels of texts[i], sorted by score (descending; ties keep label order).
    /// With top_k absent each list holds one entry (the pipeline's single {label, score}).
    public var results: [[ClassifyLabel]]

    public init(results: [[ClassifyLabel]]) { self.results = results }

    public init(from body: JSONObject) throws(WireError) {
        let rows = try FieldReader(body).array("results")
        var out: [[ClassifyLabel]] = []
        for (i, row) in rows.enumerated() {
            guard let items = row.arrayValue else { throw .invalidField("results[\(i)]", expected: "an array", got: row) }
            var list: [ClassifyLabel] = []
            for item in items {
                guard let o = item.objectValue else { throw .invalidField("results[\(i)]", expected: "objects {label, score}", got: item) }
                list.append(try ClassifyLabel(from: o))
            }
            out.append(list)
        }
        results = out
    }

    public func json() -> JSONObject {
        ["results": .array(results.map { .array($0.map { .object($0.json()) }) })]
    }
}

/// A label and its score (probability, or raw logit with function_to_apply "none").
public struct ClassifyLabel: Sendable, Equatable {
    public var label: String
    /// Nullable on the wire (a non-finite logit).
    public var score: Double?

    public init(label: String, score: Double?) {
        self.label = label
        self.score = score
    }

    public init(from o: JSONObject) throws(WireError) {
        let r = FieldReader(o)
        label = try r.string("label")
        score = try r.optionalDouble("score")
    }

    public func json() -> JSONObject {
        ["label": .string(label), "score": score.map(TaskNumbers.json) ?? .null]
    }
}

/// Task scores are computed in float32: written in float32's shortest form.
enum TaskNumbers {
    static func json(_ d: Double) -> JSON { .float(Float(d)) }
}
