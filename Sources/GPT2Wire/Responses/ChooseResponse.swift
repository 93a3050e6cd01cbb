// choose result: {scores: [number], best: int} — mc_logits per choice, and the argmax (first on ties).

import GPT2JSON

public struct ChooseResponse: WireResponse {
    public var scores: [Double?]
    public var best: Int

    public init(scores: [Double?], best: Int) {
        self.scores = scores
        self.best = best
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        scores = try GenerateResponse.optionalDoubles(try r.array("scores"), "scores")
        best = try r.int("best", range: 0...Int.max)
    }

    public func json() -> JSONObject {
        ["scores": .array(scores.map { $0.map(TaskNumbers.json) ?? .null }), "best": .int(Int64(best))]
    }
}
