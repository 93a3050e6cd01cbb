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

    public init(model: String, texts: [String], batch: Bool? = nil, topK: Int? = nil, function: Function? = nil) {
        self.model = model
        self.texts = texts
        self.batch = batch ?? (texts.count != 1)
        self.topK = topK
        self.function = function
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        model = try r.string("model", nonEmpty: true)
        (texts, batch) = try TaskTexts.read(r)
        topK = try r.optionalInt("top_k", range: 0...Int.max)
        function = try r.optionalString("function_to_apply").map { (s) throws(WireError) -> Function in
            guard let f = Function(rawValue: s) else {
                throw .invalidField("function_to_apply", expected: "one of \"softmax\", \"sigmoid\", \"none\"", got: .string(s))
            }
            return f
        }
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["model": .string(model)]
        TaskTexts.write(texts, batch: batch, into: &o)
        o.set("top_k", topK.map { .int(Int64($0)) })
        o.set("function_to_apply", function.map { .string($0.rawValue) })
        return o
    }
}
