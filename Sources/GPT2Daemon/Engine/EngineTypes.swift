// EngineTypes — the values that cross between a listener and the engine: options, who is asking
// (`ClientIdentity`), the key `cancel` uses (`JobKey`) and the engine's counters (`EngineStats`).
// Requests are in EngineRequests.swift, answers in EngineResults.swift, errors in EngineError.swift;
// none of them is a wire type (`Mapping/` turns wire requests into these and these into responses).

/// Tunables of the engine (set from the daemon's config file / command line). The defaults are the
/// daemon's (DaemonSettings; a test checks they agree), except `threads`, a library default: the
/// daemon's `threads = 0` means every CPU.
public struct EngineOptions: Sendable {
    /// Compute threads: the size of the kernels' compute pool (or OpenBLAS' threads without AVX-512).
    public var threads: Int = 2
    /// Global KV-cache budget in bytes, shared by every model; nil = unlimited.
    public var kvCacheBytes: Int? = 1 << 30
    /// Positions per KV block.
    public var kvBlockTokens: Int = 32
    /// Most new tokens put through one forward pass (decode tokens + prefill chunks).
    public var maxBatchTokens: Int = 512
    /// Most open sessions (all users).
    public var maxSessions: Int = 64
    /// Sessions unused for this long (seconds) are closed.
    public var sessionIdleTimeout: Double = 600
    /// Most requests queued or running before new ones get `overloaded`.
    public var maxPendingJobs: Int = 1024
    /// Most open sessions of one principal (within `maxSessions`).
    public var maxSessionsPerUser: Int = 16
    /// Most tokens in the histories of one principal's open sessions: a request or fork that would
    /// take them past it gets `quotaExceeded` before anything is computed.
    public var maxSessionTokensPerUser: Int = 1 << 20
    /// Most requests one principal may have queued or running (within `maxPendingJobs`).
    public var maxPendingPerUser: Int = 256
    /// Most in-flight tokens of one principal: Σ over its queued and running jobs of prompt +
    /// max new tokens (`Job.tokenReservation`, UserLoad.swift).
    public var maxInflightTokensPerUser: Int = 131072
    /// Most forward rows (tokens through the model, over all windows and sequences) one task request
    /// (classify, tag, qa, choose, embed) may need; more → `too_large` before any compute. Generation
    /// and scoring are bounded by n_positions × 16 sequences already.
    public var maxRequestRows: Int = 16384

    public init() {}
}

/// Who sent a request: the principal that owns its sessions and prompt-cache entries, the sending
/// process, and the listener's connection it came on.
public struct ClientIdentity: Sendable, Hashable {
    /// Keys sessions and the prompt cache.
    public var principal: Principal
    /// The peer process (0 when the transport does not know it).
    public var pid: Int32
    /// Daemon-unique connection number (`cancelAll(connection:)`).
    public var connection: UInt64

    public init(principal: Principal, pid: Int32, connection: UInt64) {
        self.principal = principal; self.pid = pid; self.connection = connection
    }

    /// A Unix-socket peer (SO_PEERCRED's uid and pid).
    public init(uid: UInt32, pid: Int32, connection: UInt64) {
        self.init(principal: .unixUser(uid: uid), pid: pid, connection: connection)
    }
}

/// Names one request for `cancel`: its connection and the tag its listener derived from the
/// client's id (`Mapping/RequestKeyMapping.swift` for the JSON-lines id); nil when it has none.
public struct JobKey: Sendable, Hashable {
    public var connection: UInt64
    public var tag: String?
    public init(connection: UInt64, tag: String?) { self.connection = connection; self.tag = tag }
}

/// Counters for `stats` and the systemd STATUS= line.
public struct EngineStats: Sendable {
    public var requestsActive: Int
    public var queueDepth: Int
    public var requestsTotal: Int
    public var errorsTotal: Int
    public var promptTokensTotal: Int
    public var completionTokensTotal: Int
    public var cachedTokensTotal: Int
    public var sessions: Int
    public var kvBytesInUse: Int
    public var kvBytesLimit: Int?
    /// KV blocks allocated now (all models).
    public var kvBlocksInUse: Int = 0
    /// Blocks of the first model's size that still fit the budget; nil without a budget.
    public var kvBlocksFree: Int? = nil
    /// KV bytes per position of context of the first model's pool.
    public var kvBytesPerToken: Int = 0
    public var forwardPasses: Int
    /// Running jobs whose KV cache was dropped to let older ones progress (recomputed later).
    public var preemptions: Int = 0
    /// Token rows put through all forward passes, and through the latest one.
    public var batchRowsTotal: Int = 0
    public var batchRowsLast: Int = 0

    /// Mean rows per forward pass (0 before the first).
    public var batchRowsMean: Double { forwardPasses == 0 ? 0 : Double(batchRowsTotal) / Double(forwardPasses) }
}
