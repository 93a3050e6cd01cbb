// generate — mapped to an engine GenerationRequest and handed to the engine; its events (tokens when
// streaming, then one result or error) arrive on the compute thread and go straight to the sink,
// which queues them without blocking (mapped to wire lines and encoded on the connection's writer).
import GPT2Wire

struct GenerateHandler: RequestHandler {
    let op = GenerateRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(GenerateRequest.self)
        let sink = request.sink
        request.server.engine.generate(GenerationRequest(r), key: request.jobKey, client: request.client) { sink.send($0) }
    }
}
