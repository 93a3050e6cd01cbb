// qa — extractive question answering with the question-answering pipeline's semantics
// (transformers 4.57.1; GPT2ForQuestionAnswering checkpoints).

import GPT2JSON

public struct QARequest: WireRequest {
    public typealias Response = QAResponse
    public static let op = "qa"

    public var model: String
    public var question: String
    public var context: String
    /// Answers to return (≥ 1); default 1.
    public var topK: Int
    /// Overlap in tokens between context chunks; nil = min(max_seq_len / 2, 128).
    public var docStride: Int?
    /// Longest answer in tokens (≥ 1); default 15.
    public var maxAnswerLen: Int
    /// Tokens per chunk (question + context); nil = min(384, n_positions); larger values count as n_positions.
    public var maxSeqLen: Int?
    /// Accepted for compatibility and ignored, like the pipeline's fast-tokenizer path; default 64.
    public var maxQuestionLen: Int
    /// Also offer the empty answer {"answer": "", "start": 0, "end": 0}; default false.
    public var handleImpossibleAnswer: Bool
    /// Widen spans to whole words; default true.
    public var alignToWords: Bool

    public init(model: String, question: String, context: String, topK: Int = 1, docStride: Int? = nil,
                maxAnswerLen: Int = 15, maxSeqLen: Int? = nil, maxQuestionLen: Int = 64,
                handleImpossibleAnswer: Bool = false, alignToWords: Bool = true) {
        self.model = model
        self.question = question
        self.context = context
        self.topK = topK
        self.docStride = docStride
        self.maxAnswerLen = maxAnswerLen
        self.maxSeqLen = maxSeqLen
        self.maxQuestionLen = maxQuestionLen
        self.handleImpossibleAnswer = handleImpossibleAnswer
        self.alignToWords = alignToWords
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        model = try r.string("model", nonEmpty: true)
        question = try r.string("question", nonEmpty: true)
        context = try r.string("context", nonEmpty: true)
        topK = try r.int("top_k", default: 1, range: 1...Int.max)
        docStride = try r.optionalInt("doc_stride", range: 0...Int.max)
        maxAnswerLen = try r.int("max_answer_len", default: 15, range: 1...Int.max)
        maxSeqLen = try r.optionalInt("max_seq_len", range: 2...Int.max)
        maxQuestionLen = try r.int("max_question_len", default: 64, range: 1...Int.max)
        handleImpossibleAnswer = try r.bool("handle_impossible_answer", default: false)
        alignToWords = try r.bool("align_to_words", default: true)
        if let s = docStride, let m = maxSeqLen, s > m {
            throw .invalidField("doc_stride", expected: "an integer ≤ max_seq_len (\(m))", got: .int(Int64(s)))
        }
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["model": .string(model), "question": .string(question), "context": .string(context),
                             "top_k": .int(Int64(topK))]
        o.set("doc_stride", docStride.map { .int(Int64($0)) })
        o["max_answer_len"] = .int(Int64(maxAnswerLen))
        o.set("max_seq_len", maxSeqLen.map { .int(Int64($0)) })
        o["max_question_len"] = .int(Int64(maxQuestionLen))
        o["handle_impossible_answer"] = .bool(handleImpossibleAnswer)
        o["align_to_words"] = .bool(alignToWords)
        return o
    }
}
