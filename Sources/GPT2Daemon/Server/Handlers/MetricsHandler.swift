// metrics — the Prometheus exposition of the daemon's metrics (Metrics/DaemonMetrics.swift), the same
// text GET /metrics serves. Its counts are totals over every user, so only root and members of
// `admin_group` get it (StatsAccess, the rule of `stats`'s totals); anyone else gets `forbidden`.
// The text is made off the event loop (`offload`).
import GPT2Wire

struct MetricsHandler: RequestHandler {
    let op = MetricsRequest.op

    /// The refusal's message (the HTTP listener's 403 says the same).
    static let forbiddenMessage = "metrics are the daemon's totals: only root and members of admin_group may read them"

    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(MetricsRequest.self)
        let server = request.server
        guard StatsAccess.seesTotals(request.client.principal, adminGroup: server.policy.adminGroup) else {
            throw WireError(.forbidden, Self.forbiddenMessage)
        }
        request.offload {
            request.sink.result(MetricsResponse(contentType: MetricsExposition.contentType, text: server.metrics.exposition(server: server)))
        }
    }
}
