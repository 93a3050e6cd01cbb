// models.unload — stops serving a model (Engine+Models.swift): root and admin_group only (ModelAdmin).
// New requests for it get `model_unavailable` at once; the reply comes once its running requests have
// finished (or, after `drain_timeout_s` — default the daemon's drain_timeout_s — were ended with
// `model_unavailable`) and its memory is given back; the name then answers `unknown_model`.
import GPT2Wire

struct ModelsUnloadHandler: RequestHandler {
    let op = ModelsUnloadRequest.op

    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(ModelsUnloadRequest.self)
        try ModelAdmin.requireAdmin(request)
        let server = request.server, sink = request.sink
        let drain = r.drainTimeoutSeconds ?? server.policy.modelDrainSeconds
        Task {
            do throws(EngineError) {
                let report = try await server.engine.unloadModel(named: r.name, drainTimeout: drain)
                server.logger.info("model unloaded (models.unload)", metadata: [
                    "model": "\(r.name)", "stopped_requests": "\(report.stoppedRequests)", "freed_kv_blocks": "\(report.freedKVBlocks)",
                ])
                sink.result(ModelUnloadResponse(name: r.name, stoppedRequests: report.stoppedRequests, freedKVBlocks: report.freedKVBlocks))
            } catch {
                sink.error(WireError(error))
            }
        }
    }
}
