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

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        uptimeSeconds = try r.double("uptime_seconds")
        connections = try r.int("connections")
        requestsActive = try r.int("requests_active")
        queueDepth = try r.int("queue_depth")
        requestsTotal = try r.int("requests_total")
        errorsTotal = try r.int("errors_total")
        promptTokensTotal = try r.int("prompt_tokens_total")
        completionTokensTotal = try r.int("completion_tokens_total")
        sessions = try r.int("sessions")
    }

    public func json() -> JSONObject {
        ["uptime_seconds": .double(uptimeSeconds), "connections": .int(Int64(connections)),
         "requests_active": .int(Int64(requestsActive)), "queue_depth": .int(Int64(queueDepth)),
         "requests_total": .int(Int64(requestsTotal)), "errors_total": .int(Int64(errorsTotal)),
         "prompt_tokens_total": .int(Int64(promptTokensTotal)),
         "completion_tokens_total": .int(Int64(completionTokensTotal)), "sessions": .int(Int64(sessions))]
    }
}
