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

    public static let wireDefaults = TagRequest(model: "", text: "")
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        .required("text", \.text, .nonEmptyString),
        .defaulted("aggregation_strategy", \.aggregation, .choice),
        .defaulted("ignore_labels", \.ignoreLabels, .strings()),
        .optional("max_length", \.maxLength, .int(1...Int.max)),
        .optional("stride", \.stride, .int(0...Int.max)),
    ]

    public func validateFields() throws(WireError) {
        if stride != nil && aggregation == .none {
            throw WireError(.invalidField, "field 'stride': needs an aggregation_strategy other than \"none\"", field: "stride")
        }
        if let s = stride, let m = maxLength, s >= m {
            throw .invalidField("stride", expected: "an integer < max_length (\(m))", got: .int(Int64(s)))
        }
    }

    public init(model: String, text: String, aggregation: Aggregation = .none, ignoreLabels: [String] = ["O"],
                maxLength: Int? = nil, stride: Int? = nil) {
        self.model = model
        self.text = text
        self.aggregation = aggregation
        self.ignoreLabels = ignoreLabels
        self.maxLength = maxLength
        self.stride = stride
    }
}
