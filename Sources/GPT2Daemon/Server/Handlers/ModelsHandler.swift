// models — the loaded models, in configuration order.
import GPT2Wire

struct ModelsHandler: RequestHandler {
    let op = ModelsRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(ModelsRequest.self)
        request.sink.result(ModelsResponse(models: request.server.engine.models.map(\.info)))
    }
}
