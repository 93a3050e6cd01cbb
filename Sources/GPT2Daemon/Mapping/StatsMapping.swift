// StatsMapping — the engine's counters (`EngineStats`, an engine type) and the listener's own become
// the wire's `stats` result here, and only here.
import GPT2Wire

/// What the socket listener counts itself (request lines and error lines include those the engine
/// never saw: malformed lines, unknown ops).
struct ServerCounters: Sendable, Equatable {
    var uptimeSeconds: Double
    var connections: Int
    var requestsTotal: Int
    var errorsTotal: Int
}

extension StatsResponse {
    init(_ e: EngineStats, server s: ServerCounters) {
        self.init(
            uptimeSeconds: s.uptimeSeconds, connections: s.connections, requestsActive: e.requestsActive,
            queueDepth: e.queueDepth, requestsTotal: s.requestsTotal, errorsTotal: s.errorsTotal,
            promptTokensTotal: e.promptTokensTotal, completionTokensTotal: e.completionTokensTotal,
            sessions: e.sessions,
            engine: EngineCounters(
                kvBytesInUse: e.kvBytesInUse, kvBytesLimit: e.kvBytesLimit, kvBlocksInUse: e.kvBlocksInUse,
                kvBytesPerToken: e.kvBytesPerToken, kvBlocksFree: e.kvBlocksFree, preemptionsTotal: e.preemptions, forwardPassesTotal: e.forwardPasses,
                batchRowsTotal: e.batchRowsTotal, batchRowsLast: e.batchRowsLast, batchRowsMean: e.batchRowsMean))
    }
}

extension StatsResponse {
    /// One user's own counts (`scope` "user"): no engine counters, which are the daemon's.
    init(_ u: Engine.UserStats, server s: ServerCounters) {
        self.init(
            uptimeSeconds: s.uptimeSeconds, connections: s.connections, requestsActive: u.requestsActive,
            queueDepth: u.queueDepth, requestsTotal: s.requestsTotal, errorsTotal: s.errorsTotal,
            promptTokensTotal: u.promptTokensTotal, completionTokensTotal: u.completionTokensTotal,
            sessions: u.sessions, engine: nil, scope: "user")
    }
}
