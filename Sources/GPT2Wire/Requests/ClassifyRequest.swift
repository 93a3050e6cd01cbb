// classify — sequence classification with the text-classification pipeline's semantics
// (GPT2ForSequenceClassification checkpoints).

import GPT2JSON

public struct ClassifyRequest: WireRequest {
    public typealias Response = ClassifyResponse
    public static let op = "classify"

    public enum Function: String, Sendable, Equatable, CaseIterable { case softmax, sigmoid, none }

    public var model: String
    /// The texts to classify ("text": one, "texts": a batch; all run in one set of forward passes).
    public var texts: [String]
    /// True when the request used "texts" (written back the same way).
    public var batch: Bool
    /// nil (absent): the pipeline's default, the single best label. 0: every label (the pipeline's
    /// top_k=None). k ≥ 1: the k best labels.
    public var topK: Int?
    /// nil: the pipeline's default for the checkpoint (problem_type / num_labels).
    public var function: Function?

    public static let wireDefaults = ClassifyRequest(model: "", texts: [])
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        TaskTexts.field(\.texts, batch: \.batch),
        .optional("top_k", \.topK, .int(0...Int.max)),
        .optional("function_to_apply", \.function, .choice),
    ]

    public init(model: String, texts: [String], batch: Bool? = nil, topK: Int? = nil, function: Function? = nil) {
        self.model = model
        self.texts = texts
        self.batch = batch ?? (texts.count != 1)
        self.topK = topK
        self.function = function
    }
}
