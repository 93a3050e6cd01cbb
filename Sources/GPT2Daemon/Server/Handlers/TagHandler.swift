// tag — the text's windows (one, or several overlapping ones with `stride`) go to the engine in one
// hiddenStates call, then the token-classification pipeline's post-processing.
import GPT2Tasks
import GPT2Wire

struct TagHandler: RequestHandler {
    let op = TagRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(TagRequest.self)
        request.withModel(r.model) { m throws(WireError) in
            let tagger = try TaskOps.run(model: r.model, field: "model") {
                try TokenTagger(config: m.model.config, weights: m.model.weights)
            }
            let aggregation = AggregationStrategy(rawValue: r.aggregation.rawValue)!
            let field = r.stride != nil ? "stride" : "text"
            let plan = try TaskOps.run(model: r.model, field: field) {
                try tagger.plan(r.text, tokenizer: m.tokenizer, aggregation: aggregation, maxLength: r.maxLength, stride: r.stride)
            }
            request.runHidden(model: m, plan.requests, costField: field) { hidden in
                let entities = tagger.finish(plan: plan, hidden: hidden, tokenizer: m.tokenizer, aggregation: aggregation,
                                             ignoreLabels: r.ignoreLabels)
                return TagResponse(entities: entities.map {
                    TagEntity(label: $0.label, score: $0.score.isFinite ? $0.score : nil,
                              index: aggregation == .none ? ($0.index ?? 0) : nil,
                              word: $0.word, start: $0.start, end: $0.end)
                })
            }
        }
    }
}
