// qa result: {answers: [{answer, score, start, end}]} best first, at most top_k.

import GPT2JSON

public struct QAResponse: WireResponse {
    public var answers: [QAAnswer]

    public init(answers: [QAAnswer]) { self.answers = answers }

    public init(from body: JSONObject) throws(WireError) {
        answers = try FieldReader(body).objects("answers") { (o) throws(WireError) in try QAAnswer(from: o) }
    }

    public func json() -> JSONObject { ["answers": .array(answers.map { .object($0.json()) })] }
}

public struct QAAnswer: Sendable, Equatable {
    /// context[start..<end] (code points); "" for the impossible answer.
    public var answer: String
    public var score: Double?
    public var start: Int
    public var end: Int

    public init(answer: String, score: Double?, start: Int, end: Int) {
        self.answer = answer
        self.score = score
        self.start = start
        self.end = end
    }

    public init(from o: JSONObject) throws(WireError) {
        let r = FieldReader(o)
        answer = try r.string("answer")
        score = try r.optionalDouble("score")
        start = try r.int("start")
        end = try r.int("end")
    }

    public func json() -> JSONObject {
        // Summed scores (merged answers) are doubles: written as doubles.
        ["answer": .string(answer), "score": score.map(JSON.double) ?? .null,
         "start": .int(Int64(start)), "end": .int(Int64(end))]
    }
}
