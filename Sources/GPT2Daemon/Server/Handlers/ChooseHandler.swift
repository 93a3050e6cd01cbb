// choose — prompt + each choice is one sequence (up to its mc token); all go to the engine in one
// hiddenStates call, then GPT2DoubleHeadsModel's multiple-choice head.
import GPT2Tasks
import GPT2Wire

struct ChooseHandler: RequestHandler {
    let op = ChooseRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(ChooseRequest.self)
        request.withModel(r.model) { m throws(WireError) in
            let head = try TaskOps.run(model: r.model, field: "model") {
                try MultipleChoice(config: m.model.config, weights: m.model.weights)
            }
            let ids = r.choices.map { m.tokenizer.encode((r.prompt ?? "") + $0) }
            if let empty = ids.firstIndex(where: \.isEmpty) {
                throw WireError(.invalidField, "field 'choices[\(empty)]': the choice (with the prompt) is empty (no tokens)", field: "choices[\(empty)]")
            }
            let plans = try TaskOps.run(model: r.model, field: "mc_token_index") {
                try head.requests(choices: ids, mcTokenIndex: r.mcTokenIndex)
            }
            request.runHidden(model: m, plans, costField: "choices") { hidden in
                let res = head.finish(hidden: hidden)
                return ChooseResponse(scores: res.scores.map { $0.isFinite ? Double($0) : nil }, best: res.best)
            }
        }
    }
}
