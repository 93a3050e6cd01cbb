// qa result: {answers: [{answer, score, start, end}]} best first, at most top_k.

import GPT2JSON

public struct QAResponse: WireResponse {
    public var answers: [QAAnswer]

    public static let wireDefaults = QAResponse(answers: [])
    public static let wireFields: [WireField<Self>] = [.required("answers", \.answers, .array(of: .object(QAAnswer.self)))]

    public init(answers: [QAAnswer]) { self.answers = answers }
}

public struct QAAnswer: WireObject {
    /// context[start..<end] (code points); "" for the impossible answer.
    public var answer: String
    public var score: Double?
    public var start: Int
    public var end: Int

    public static let wireDefaults = QAAnswer(answer: "", score: nil, start: 0, end: 0)
    /// Summed scores (merged answers) are doubles: written as doubles.
    public static let wireFields: [WireField<Self>] = [
        .required("answer", \.answer, .string),
        .nullable("score", \.score, .number()),
        .required("start", \.start, .int()),
        .required("end", \.end, .int()),
    ]

    public init(answer: String, score: Double?, start: Int, end: Int) {
        self.answer = answer
        self.score = score
        self.start = start
        self.end = end
    }
}
