// models — the served models (those keep_alive unloaded too, `loaded: false`), in the order they were
// added (configuration order at start).
import GPT2Wire

struct ModelsHandler: RequestHandler {
    let op = ModelsRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(ModelsRequest.self)
        request.sink.result(ModelsResponse(models: request.server.engine.modelListing()))
    }
}
