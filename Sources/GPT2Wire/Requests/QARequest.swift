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

    public static let wireDefaults = QARequest(model: "", question: "", context: "")
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        .required("question", \.question, .nonEmptyString),
        .required("context", \.context, .nonEmptyString),
        .defaulted("top_k", \.topK, .int(1...Int.max)),
        .optional("doc_stride", \.docStride, .int(0...Int.max)),
        .defaulted("max_answer_len", \.maxAnswerLen, .int(1...Int.max)),
        .optional("max_seq_len", \.maxSeqLen, .int(2...Int.max)),
        .defaulted("max_question_len", \.maxQuestionLen, .int(1...Int.max)),
        .defaulted("handle_impossible_answer", \.handleImpossibleAnswer, .bool),
        .defaulted("align_to_words", \.alignToWords, .bool),
    ]

    public func validateFields() throws(WireError) {
        if let s = docStride, let m = maxSeqLen, s > m {
            throw .invalidField("doc_stride", expected: "an integer ≤ max_seq_len (\(m))", got: .int(Int64(s)))
        }
    }

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
}
