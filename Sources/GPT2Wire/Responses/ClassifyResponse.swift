// classify result: {results: [[{label, score}]]} — one list per input text, best first.

import GPT2JSON

public struct ClassifyResponse: WireResponse {
    /// results[i]: the labels of texts[i], sorted by score (descending; ties keep label order).
    /// With top_k absent each list holds one entry (the pipeline's single {label, score}).
    public var results: [[ClassifyLabel]]

    public static let wireDefaults = ClassifyResponse(results: [])
    public static let wireFields: [WireField<Self>] = [
        .required("results", \.results, .array(of: .array(of: .object(ClassifyLabel.self)))),
    ]

    public init(results: [[ClassifyLabel]]) { self.results = results }
}

/// A label and its score (probability, or raw logit with function_to_apply "none").
public struct ClassifyLabel: WireObject {
    public var label: String
    /// Nullable on the wire (a non-finite logit).
    public var score: Double?

    public static let wireDefaults = ClassifyLabel(label: "", score: nil)
    public static let wireFields: [WireField<Self>] = [
        .required("label", \.label, .string),
        .nullable("score", \.score, .taskScore),
    ]

    public init(label: String, score: Double?) {
        self.label = label
        self.score = score
    }
}

extension WireCodec where Value == Double {
    /// Task scores are computed in float32: written in float32's shortest form ("a number or null" where
    /// nullable).
    static var taskScore: WireCodec { number("a number or null").writing { .float(Float($0)) } }
}
