// metrics — the Prometheus exposition of the daemon's metrics (Metrics/DaemonMetrics.swift), the same
// text GET /metrics serves. Its counts are totals over every user, so only root, members of
// `admin_group` and the token principals of `admin_tokens` get it (StatsAccess, the rule of `stats`'s
// totals); anyone else gets `forbidden`.
// The text is made off the event loop (`offload`).
import GPT2Wire

struct MetricsHandler: RequestHandler {
    let op = MetricsRequest.op

    /// The refusal's message (the HTTP listener's 403 says the same).
    static let forbiddenMessage = "metrics are the daemon's totals: only root, members of admin_group and admin_tokens principals may read them"

    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(MetricsRequest.self)
        let server = request.server
        guard StatsAccess.seesTotals(request.client.principal, policy: server.policy) else {
            throw WireError(.forbidden, Self.forbiddenMessage)
        }
        request.offload {
            request.sink.result(MetricsResponse(text: server.metrics.exposition(server: server)))
        }
    }
}
