// EngineTypes — the values that cross between the socket server and the engine.
import GPT2Wire

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

    public init() {}
}

/// Who sent a request: the Unix peer (SO_PEERCRED) and its connection.
public struct ClientIdentity: Sendable, Hashable {
    public var uid: UInt32
    public var pid: Int32
    /// Daemon-unique connection number.
    public var connection: UInt64
    public init(uid: UInt32, pid: Int32, connection: UInt64) { self.uid = uid; self.pid = pid; self.connection = connection }
}

/// Names one request for `cancel`: its connection and the id the client gave it.
public struct JobKey: Sendable, Hashable {
    public var connection: UInt64
    public var id: RequestID?
    public init(connection: UInt64, id: RequestID?) { self.connection = connection; self.id = id }
}

/// What a generation reports: zero or more tokens (when streaming), then exactly one result or error.
public enum GenerateEvent: Sendable {
    case token(TokenEvent)
    case result(GenerateResponse)
    case error(WireError)
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
