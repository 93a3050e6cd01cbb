// choose result: {scores: [number], best: int} — mc_logits per choice, and the argmax (first on ties).

import GPT2JSON

public struct ChooseResponse: WireResponse {
    public var scores: [Double?]
    public var best: Int

    public static let wireDefaults = ChooseResponse(scores: [], best: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("scores", \.scores, .array(of: WireCodec.taskScore.orNull)),
        .required("best", \.best, .int(0...Int.max)),
    ]

    public init(scores: [Double?], best: Int) {
        self.scores = scores
        self.best = best
    }
}
