// generate — handed to the engine; its events (tokens when streaming, then one result or error)
// arrive on the compute thread and go straight to the sink, which queues them without blocking.
import GPT2Wire

struct GenerateHandler: RequestHandler {
    let op = GenerateRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(GenerateRequest.self)
        let sink = request.sink
        request.server.engine.generate(r, key: request.jobKey, client: request.client) { event in
            switch event {
            case .token(let t): sink.token(t)
            case .result(let res): sink.result(res)
            case .error(let e): sink.error(e)
            }
        }
    }
}
