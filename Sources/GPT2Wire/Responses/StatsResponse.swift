// stats result: daemon-wide counters since start.

import GPT2JSON

public struct StatsResponse: WireResponse {
    public var uptimeSeconds: Double
    public var connections: Int
    /// Requests being processed or queued now.
    public var requestsActive: Int
    /// Requests waiting for the inference thread.
    public var queueDepth: Int
    public var requestsTotal: Int
    public var errorsTotal: Int
    public var promptTokensTotal: Int
    public var completionTokensTotal: Int
    public var sessions: Int

    public static let wireDefaults = StatsResponse(
        uptimeSeconds: 0, connections: 0, requestsActive: 0, queueDepth: 0, requestsTotal: 0, errorsTotal: 0,
        promptTokensTotal: 0, completionTokensTotal: 0, sessions: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("uptime_seconds", \.uptimeSeconds, .number()),
        .required("connections", \.connections, .int()),
        .required("requests_active", \.requestsActive, .int()),
        .required("queue_depth", \.queueDepth, .int()),
        .required("requests_total", \.requestsTotal, .int()),
        .required("errors_total", \.errorsTotal, .int()),
        .required("prompt_tokens_total", \.promptTokensTotal, .int()),
        .required("completion_tokens_total", \.completionTokensTotal, .int()),
        .required("sessions", \.sessions, .int()),
    ]

    public init(
        uptimeSeconds: Double, connections: Int, requestsActive: Int, queueDepth: Int, requestsTotal: Int,
        errorsTotal: Int, promptTokensTotal: Int, completionTokensTotal: Int, sessions: Int
    ) {
        self.uptimeSeconds = uptimeSeconds
        self.connections = connections
        self.requestsActive = requestsActive
        self.queueDepth = queueDepth
        self.requestsTotal = requestsTotal
        self.errorsTotal = errorsTotal
        self.promptTokensTotal = promptTokensTotal
        self.completionTokensTotal = completionTokensTotal
        self.sessions = sessions
    }
}
