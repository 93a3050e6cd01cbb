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
    /// What the engine counts (KV memory, preemptions, forward passes, batch rows); nil from a
    /// daemon that does not report them.
    public var engine: EngineCounters?

    /// The engine's counters, flat in the result object.
    public struct EngineCounters: Sendable, Equatable {
        public var kvBytesInUse: Int
        /// nil: no KV budget (JSON null).
        public var kvBytesLimit: Int?
        public var kvBlocksInUse: Int
        /// Blocks of the first model's size that still fit the budget; nil: no budget (JSON null).
        public var kvBlocksFree: Int?
        public var preemptionsTotal: Int
        public var forwardPassesTotal: Int
        public var batchRowsTotal: Int
        public var batchRowsLast: Int
        /// batchRowsTotal / forwardPassesTotal (0 before the first pass).
        public var batchRowsMean: Double

        public init(kvBytesInUse: Int, kvBytesLimit: Int?, kvBlocksInUse: Int, kvBlocksFree: Int?, preemptionsTotal: Int,
                    forwardPassesTotal: Int, batchRowsTotal: Int, batchRowsLast: Int, batchRowsMean: Double) {
            self.kvBytesInUse = kvBytesInUse; self.kvBytesLimit = kvBytesLimit; self.kvBlocksInUse = kvBlocksInUse
            self.kvBlocksFree = kvBlocksFree; self.preemptionsTotal = preemptionsTotal
            self.forwardPassesTotal = forwardPassesTotal; self.batchRowsTotal = batchRowsTotal
            self.batchRowsLast = batchRowsLast; self.batchRowsMean = batchRowsMean
        }
    }

    public init(
        uptimeSeconds: Double, connections: Int, requestsActive: Int, queueDepth: Int, requestsTotal: Int,
        errorsTotal: Int, promptTokensTotal: Int, completionTokensTotal: Int, sessions: Int, engine: EngineCounters? = nil
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
        self.engine = engine
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
        if r.has("forward_passes_total") {
            engine = EngineCounters(
                kvBytesInUse: try r.int("kv_bytes_in_use"), kvBytesLimit: try r.optionalInt("kv_bytes_limit"),
                kvBlocksInUse: try r.int("kv_blocks_in_use"), kvBlocksFree: try r.optionalInt("kv_blocks_free"),
                preemptionsTotal: try r.int("preemptions_total"), forwardPassesTotal: try r.int("forward_passes_total"),
                batchRowsTotal: try r.int("batch_rows_total"), batchRowsLast: try r.int("batch_rows_last"),
                batchRowsMean: try r.double("batch_rows_mean"))
        }
    }

    public func json() -> JSONObject {
        var o: JSONObject = [
            "uptime_seconds": .double(uptimeSeconds), "connections": .int(Int64(connections)),
            "requests_active": .int(Int64(requestsActive)), "queue_depth": .int(Int64(queueDepth)),
            "requests_total": .int(Int64(requestsTotal)), "errors_total": .int(Int64(errorsTotal)),
            "prompt_tokens_total": .int(Int64(promptTokensTotal)),
            "completion_tokens_total": .int(Int64(completionTokensTotal)), "sessions": .int(Int64(sessions))]
        if let e = engine {
            o["kv_bytes_in_use"] = .int(Int64(e.kvBytesInUse))
            o["kv_bytes_limit"] = e.kvBytesLimit.map { .int(Int64($0)) } ?? .null
            o["kv_blocks_in_use"] = .int(Int64(e.kvBlocksInUse))
            o["kv_blocks_free"] = e.kvBlocksFree.map { .int(Int64($0)) } ?? .null
            o["preemptions_total"] = .int(Int64(e.preemptionsTotal))
            o["forward_passes_total"] = .int(Int64(e.forwardPassesTotal))
            o["batch_rows_total"] = .int(Int64(e.batchRowsTotal))
            o["batch_rows_last"] = .int(Int64(e.batchRowsLast))
            o["batch_rows_mean"] = .double(e.batchRowsMean)
        }
        return o
    }
}
