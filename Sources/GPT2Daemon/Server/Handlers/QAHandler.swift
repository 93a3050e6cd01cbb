// qa — the question + context chunks (doc_stride overlap) go to the engine in one hiddenStates call,
// then the question-answering pipeline's span search.
import GPT2Tasks
import GPT2Wire

struct QAHandler: RequestHandler {
    let op = QARequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(QARequest.self)
        request.withModel(r.model) { m throws(WireError) in
            let answerer = try TaskOps.run(model: r.model, field: "model") {
                try QuestionAnswerer(config: m.model.config, weights: m.model.weights)
            }
            let options = QAOptions(topK: r.topK, docStride: r.docStride, maxAnswerLength: r.maxAnswerLen,
                                    maxSequenceLength: r.maxSeqLen, handleImpossibleAnswer: r.handleImpossibleAnswer,
                                    alignToWords: r.alignToWords)
            // Errors: an empty question/context names it; a question that leaves no room is context_overflow;
            // a doc_stride that does not fit the chunk is invalid_field doc_stride.
            let plan = try TaskOps.run(model: r.model, field: "doc_stride") { () throws -> QAPlan in
                do {
                    return try answerer.plan(question: r.question, context: r.context, tokenizer: m.tokenizer, options: options)
                } catch TaskError.emptyInput(let what) {
                    throw WireError(.invalidField, "field '\(what)': \(what) is empty (no tokens)", field: what)
                } catch TaskError.inputTooLong(_, let tokens, _) {
                    throw WireError(.contextOverflow, "field 'question': the question has \(tokens) tokens and leaves no room for the context in max_seq_len")
                }
            }
            request.runHidden(model: m, plan.requests, costField: "context") { hidden in
                QAResponse(answers: answerer.finish(plan: plan, hidden: hidden).map {
                    QAAnswer(answer: $0.answer, score: $0.score.isFinite ? $0.score : nil, start: $0.start, end: $0.end)
                })
            }
        }
    }
}
