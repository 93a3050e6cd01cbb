// classify — every text is one sequence (up to its pooled position); all of them go to the engine in
// one hiddenStates call, then the text-classification pipeline's post-processing.
import GPT2Tasks
import GPT2Wire

struct ClassifyHandler: RequestHandler {
    let op = ClassifyRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(ClassifyRequest.self)
        request.withModel(r.model) { m throws(WireError) in
            let classifier = try TaskOps.run(model: r.model, field: "model") {
                try SequenceClassifier(config: m.model.config, weights: m.model.weights)
            }
            let field = r.batch ? "texts" : "text"
            let function = r.function.map { ClassificationFunction(rawValue: $0.rawValue)! }
            // absent → the pipeline's default (top 1); 0 → all labels (top_k=None); k → k best
            let topK: Int? = r.topK.map { $0 == 0 ? nil : $0 } ?? 1
            let plans = try TaskOps.run(model: r.model, field: field) {
                try r.texts.map { try classifier.request(ids: m.tokenizer.encode($0)) }
            }
            request.runHidden(model: m, plans, costField: field) { hidden in
                ClassifyResponse(results: hidden.map { h in
                    classifier.finish(pooledHidden: h, function: function, topK: topK).map {
                        ClassifyLabel(label: $0.label, score: $0.score.isFinite ? $0.score : nil)
                    }
                })
            }
        }
    }
}
