// ScoreMapping — a `score` request becomes an engine `ScoringRequest`; its result the wire's.
import GPT2Wire

extension ScoringRequest {
    init(_ r: ScoreRequest) {
        self.init(model: r.model, prompt: Prompt(r.input), session: r.session, topLogprobs: r.topLogprobs)
    }
}

extension ScoreResponse {
    init(_ r: ScoreResult) {
        self.init(tokens: r.tokens, logprobs: r.logprobs, perplexity: r.perplexity,
                  topLogprobs: r.topLogprobs?.map { $0?.map(TokenLogprob.init) })
    }
}
