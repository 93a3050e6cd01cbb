// tokenize — text → ids and code-point offsets with the model's tokenizer, off the event loop
// (a megabyte of text takes a while to BPE), once the model serves (keep_alive: Router's `withModel`).
import GPT2Wire

struct TokenizeHandler: RequestHandler {
    let op = TokenizeRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(TokenizeRequest.self)
        let sink = request.sink
        request.withModel(r.model) { m in
            let (ids, offsets) = m.tokenizer.encodeWithOffsets(r.text)
            sink.result(TokenizeResponse(tokens: ids, offsets: offsets.map { TextSpan(start: $0.lowerBound, end: $0.upperBound) }))
        }
    }
}
