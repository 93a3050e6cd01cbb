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
    /// Whose counts these are: "all" (the daemon's totals, for root and `admin_group`) or "user" (the
    /// asking user's own; no engine counters); nil from a daemon that does not say.
    public var scope: String?

    /// The engine's counters, flat in the result object (present when `forward_passes_total` is).
    public struct EngineCounters: WireObject {
        public var kvBytesInUse: Int
        /// nil: no KV budget (JSON null).
        public var kvBytesLimit: Int?
        public var kvBlocksInUse: Int
        /// KV-cache bytes one position of context takes (the first model's pool; all layers, keys and values).
        public var kvBytesPerToken: Int
        /// Blocks of the first model's size that still fit the budget; nil: no budget (JSON null).
        public var kvBlocksFree: Int?
        public var preemptionsTotal: Int
        public var forwardPassesTotal: Int
        public var batchRowsTotal: Int
        public var batchRowsLast: Int
        /// batchRowsTotal / forwardPassesTotal (0 before the first pass).
        public var batchRowsMean: Double

        public init(kvBytesInUse: Int, kvBytesLimit: Int?, kvBlocksInUse: Int, kvBytesPerToken: Int = 0,
                    kvBlocksFree: Int?, preemptionsTotal: Int,
                    forwardPassesTotal: Int, batchRowsTotal: Int, batchRowsLast: Int, batchRowsMean: Double) {
            self.kvBytesInUse = kvBytesInUse; self.kvBytesLimit = kvBytesLimit; self.kvBlocksInUse = kvBlocksInUse
            self.kvBytesPerToken = kvBytesPerToken
            self.kvBlocksFree = kvBlocksFree; self.preemptionsTotal = preemptionsTotal
            self.forwardPassesTotal = forwardPassesTotal; self.batchRowsTotal = batchRowsTotal
            self.batchRowsLast = batchRowsLast; self.batchRowsMean = batchRowsMean
        }

        public static let wireDefaults = EngineCounters(
            kvBytesInUse: 0, kvBytesLimit: nil, kvBlocksInUse: 0, kvBlocksFree: nil, preemptionsTotal: 0,
            forwardPassesTotal: 0, batchRowsTotal: 0, batchRowsLast: 0, batchRowsMean: 0)
        public static let wireFields: [WireField<Self>] = [
            .required("kv_bytes_in_use", \.kvBytesInUse, .int()),
            .nullable("kv_bytes_limit", \.kvBytesLimit, .int()),
            .required("kv_blocks_in_use", \.kvBlocksInUse, .int()),
            .defaulted("kv_bytes_per_token", \.kvBytesPerToken, .int()),
            .nullable("kv_blocks_free", \.kvBlocksFree, .int()),
            .required("preemptions_total", \.preemptionsTotal, .int()),
            .required("forward_passes_total", \.forwardPassesTotal, .int()),
            .required("batch_rows_total", \.batchRowsTotal, .int()),
            .required("batch_rows_last", \.batchRowsLast, .int()),
            .required("batch_rows_mean", \.batchRowsMean, .number()),
        ]
    }

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
        .optional("scope", \.scope, .string),
        // The engine's counters, flat; a daemon that does not send them leaves `engine` nil.
        .custom(read: { r, root throws(WireError) in
            if r.has("forward_passes_total") { root.engine = try EngineCounters(from: r.object) }
        }, write: { root, o in
            if let e = root.engine { for (k, v) in e.json() { o[k] = v } }
        }),
    ]

    public init(
        uptimeSeconds: Double, connections: Int, requestsActive: Int, queueDepth: Int, requestsTotal: Int,
        errorsTotal: Int, promptTokensTotal: Int, completionTokensTotal: Int, sessions: Int, engine: EngineCounters? = nil,
        scope: String? = nil
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
        self.scope = scope
    }
}
