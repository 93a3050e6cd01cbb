// models.load — loads a checkpoint directory and serves it under a new name (Engine+Models.swift):
// root and admin_group only (ModelAdmin). The load runs on the engine's load queue, never on the
// event loop or the compute thread; the reply comes once the model serves (`model_exists`,
// `model_load_failed` with the loader's message otherwise).
import GPT2Core
import GPT2Wire

struct ModelsLoadHandler: RequestHandler {
    let op = ModelsLoadRequest.op

    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(ModelsLoadRequest.self)
        try ModelAdmin.requireAdmin(request)
        guard ModelSpec.isValidName(r.name) else {
            throw WireError.invalidField("name", expected: "a model name without whitespace, '=' or ':'", got: .string(r.name))
        }
        let weightType = try ModelAdmin.weightType(r.weightType)
        let server = request.server, sink = request.sink
        Task {
            do throws(EngineError) {
                let loaded = try await server.engine.loadModel(name: r.name, directory: r.directory, weightType: weightType,
                                                               keepAliveSeconds: r.keepAliveSeconds)
                server.metrics.modelLoaded(r.name, seconds: loaded.seconds)
                server.logger.info("model loaded (models.load)", metadata: [
                    "model": "\(r.name)", "directory": "\(r.directory)", "ms": "\(Int(loaded.seconds * 1000))",
                ])
                let info = server.engine.modelListing().first { $0.name == r.name } ?? loaded.model.info
                sink.result(ModelLoadResponse(model: info, loadSeconds: loaded.seconds))
            } catch {
                sink.error(WireError(error))
            }
        }
    }
}
