// embed — every text is one sequence (.last or .all rows); all go to the engine in one hiddenStates
// call, then pooled (and optionally L2-normalized). Any checkpoint can embed.
import GPT2Tasks
import GPT2Wire

struct EmbedHandler: RequestHandler {
    let op = EmbedRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(EmbedRequest.self)
        request.withModel(r.model) { m throws(WireError) in
            let embedder = Embedder(config: m.model.config)
            let pooling = EmbeddingPooling(rawValue: r.pooling.rawValue)!
            let field = r.batch ? "texts" : "text"
            let plans = try TaskOps.run(model: r.model, field: field) {
                try r.texts.map { try embedder.request(ids: m.tokenizer.encode($0), pooling: pooling) }
            }
            request.runHidden(model: m, plans, costField: field) { hidden in
                EmbedResponse(embeddings: hidden.map { embedder.finish(hidden: $0, pooling: pooling, normalize: r.normalize) },
                              dims: m.model.config.nEmbd)
            }
        }
    }
}
