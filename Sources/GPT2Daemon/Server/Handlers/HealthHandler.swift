// health — liveness and protocol version; "shutting_down" while the daemon drains.
import GPT2Wire

struct HealthHandler: RequestHandler {
    let op = HealthRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(HealthRequest.self)
        let s = request.server
        request.sink.result(HealthResponse(status: s.isDraining ? "shutting_down" : "ok", uptimeSeconds: s.uptimeSeconds))
    }
}
