// detokenize — ids → text (invalid UTF-8 becomes U+FFFD), off the event loop, once the model serves
// (keep_alive: Router's `withModel`).
import GPT2Wire

struct DetokenizeHandler: RequestHandler {
    let op = DetokenizeRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(DetokenizeRequest.self)
        let sink = request.sink
        request.withModel(r.model) { m throws(WireError) in
            let tokenizer = m.tokenizer
            let vocabSize = tokenizer.vocabSize
            if let bad = r.tokens.firstIndex(where: { $0 >= vocabSize }) {
                throw WireError(.invalidField, "field 'tokens': token id \(r.tokens[bad]) at index \(bad) is not below the vocabulary size \(vocabSize)", field: "tokens")
            }
            let eot = tokenizer.endOfTextID
            let ids = r.skipSpecialTokens ? r.tokens.filter { $0 != eot } : r.tokens
            sink.result(DetokenizeResponse(text: tokenizer.decode(ids)))
        }
    }
}
