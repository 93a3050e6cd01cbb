// tag — token classification (NER) with the token-classification pipeline's semantics
// (GPT2ForTokenClassification checkpoints).

import GPT2JSON

public struct TagRequest: WireRequest {
    public typealias Response = TagResponse
    public static let op = "tag"

    public enum Aggregation: String, Sendable, Equatable, CaseIterable { case none, simple, first, average, max }

    public var model: String
    /// Non-empty text.
    public var text: String
    /// The pipeline's aggregation_strategy; default "none" (one entity per token).
    public var aggregation: Aggregation
    /// Labels (entity / entity_group) dropped after grouping; default ["O"].
    public var ignoreLabels: [String]
    /// Tokens per window (the tokenizer's model_max_length); nil = n_positions; larger values count as n_positions.
    public var maxLength: Int?
    /// Overlap in tokens between windows of a long text (needs an aggregation other than "none"; < max_length).
    public var stride: Int?

    public init(model: String, text: String, aggregation: Aggregation = .none, ignoreLabels: [String] = ["O"],
                maxLength: Int? = nil, stride: Int? = nil) {
        self.model = model
        self.text = text
        self.aggregation = aggregation
        self.ignoreLabels = ignoreLabels
        self.maxLength = maxLength
        self.stride = stride
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        model = try r.string("model", nonEmpty: true)
        text = try r.string("text", nonEmpty: true)
        aggregation = Aggregation(rawValue: try TaskTexts.choice(r, "aggregation_strategy", Aggregation.allCases.map(\.rawValue), default: "none"))!
        if let v = r.value("ignore_labels") {
            guard let a = v.arrayValue else { throw .invalidField("ignore_labels", expected: "an array of strings", got: v) }
            var out: [String] = []
            for e in a {
                guard let s = e.stringValue else { throw .invalidField("ignore_labels", expected: "an array of strings", got: e) }
                out.append(s)
            }
            ignoreLabels = out
        } else {
            ignoreLabels = ["O"]
        }
        maxLength = try r.optionalInt("max_length", range: 1...Int.max)
        stride = try r.optionalInt("stride", range: 0...Int.max)
        if stride != nil && aggregation == .none {
            throw WireError(.invalidField, "field 'stride': needs an aggregation_strategy other than \"none\"", field: "stride")
        }
        if let s = stride, let m = maxLength, s >= m {
            throw .invalidField("stride", expected: "an integer < max_length (\(m))", got: .int(Int64(s)))
        }
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["model": .string(model), "text": .string(text),
                             "aggregation_strategy": .string(aggregation.rawValue), "ignore_labels": ignoreLabels.json]
        o.set("max_length", maxLength.map { .int(Int64($0)) })
        o.set("stride", stride.map { .int(Int64($0)) })
        return o
    }
}
