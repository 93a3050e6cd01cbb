// ServerState — what every connection and handler shares: the engine, the op table, the limits that a
// reload may change, the open connections, and the server's own counters (for `stats`).

import Dispatch
import GPT2Systemd
import GPT2Wire
import Logging

public final class ServerState: Sendable {
    public let engine: Engine
    public let router: Router
    let logger: Logger
    /// Maps the kernel's peer credentials of a new connection to the ones used (tests fake other users).
    let credentialsFilter: @Sendable (PeerCredentials) -> PeerCredentials
    /// The daemon's serving state (draining, connection numbers), shared with every other listener.
    public let serving: ServingState
    /// The daemon's metrics: the listeners count their requests there (RequestMetrics).
    public let metrics: DaemonMetrics

    private let startNanos = DispatchTime.now().uptimeNanoseconds
    private struct Mutable {
        var maxLineBytes: Int
        var policy: ConnectionPolicy
        var connections: [UInt64: Connection] = [:]
        var connectionsTotal = 0
        var requestsTotal = 0
        var errorsTotal = 0
        /// Reply budget in use over all connections (bytes; Connection's accounting).
        var replyBytes = 0
        /// Readers waiting for `replyBytes` to fall to the policy's total, by connection number.
        var replyWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Request and error lines per principal (`stats` for a user who may not see the totals).
        var linesByPrincipal: [Principal: (requests: Int, errors: Int)] = [:]
    }
    private let state: Locked<Mutable>

    init(
        engine: Engine,
        router: Router = .v1,
        maxLineBytes: Int,
        policy: ConnectionPolicy = ConnectionPolicy(),
        logger: Logger,
        credentialsFilter: @escaping @Sendable (PeerCredentials) -> PeerCredentials = { $0 },
        serving: ServingState = ServingState(),
        metrics: DaemonMetrics = DaemonMetrics()
    ) {
        self.serving = serving
        self.metrics = metrics
        self.engine = engine
        self.router = router
        self.logger = logger
        self.credentialsFilter = credentialsFilter
        self.state = Locked(Mutable(maxLineBytes: maxLineBytes, policy: policy))
    }

    // MARK: limits and lifecycle

    /// The line limit for connections accepted from now on (a reload may change it).
    public var maxLineBytes: Int {
        get { state.withLock { $0.maxLineBytes } }
        set { state.withLock { $0.maxLineBytes = newValue } }
    }

    /// The connection limits for connections accepted from now on (a reload may change them).
    public var policy: ConnectionPolicy {
        get { state.withLock { $0.policy } }
        set { state.withLock { $0.policy = newValue } }
    }

    /// True once shutdown began: `health` says "shutting_down" (the daemon-wide `ServingState`).
    public var isDraining: Bool { serving.isDraining }
    func beginDraining() { serving.beginDraining() }

    public var uptimeSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds - startNanos) / 1e9 }

    // MARK: connections

    /// Registers a new connection and returns its daemon-unique number (1, 2, …).
    func nextConnectionNumber() -> UInt64 { serving.nextConnectionNumber() }

    func register(_ c: Connection) {
        state.withLock { s in
            s.connections[c.number] = c
            s.connectionsTotal += 1
        }
    }

    func unregister(_ c: Connection) { _ = state.withLock { $0.connections.removeValue(forKey: c.number) } }

    /// Connections open now.
    public var openConnections: Int { state.withLock { $0.connections.count } }

    /// Asks every connection to close once its in-flight requests are answered.
    func closeAllConnections() {
        let all = state.withLock { Array($0.connections.values) }
        for c in all { c.closeWhenIdle() }
    }

    /// Closes every connection now (queued lines are still written).
    func forceCloseAllConnections() {
        let all = state.withLock { Array($0.connections.values) }
        for c in all { c.closeNow() }
    }

    // MARK: reply memory over all connections

    /// Adds `delta` bytes (negative: gives them back) to the reply budget in use; once it is within
    /// the policy's total, every reader waiting for that resumes.
    func addReplyBytes(_ delta: Int) {
        let resumed = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.replyBytes += delta
            guard delta < 0, s.replyBytes <= s.policy.totalReplyBytes, !s.replyWaiters.isEmpty else { return [] }
            defer { s.replyWaiters = [:] }
            return Array(s.replyWaiters.values)
        }
        for c in resumed { c.resume() }
    }

    /// Reply bytes in use over all connections now.
    var replyBytesInUse: Int { state.withLock { $0.replyBytes } }

    /// Returns at once while the total is within the policy's bound or `holds()` (asked under this
    /// state's lock: does the connection still hold reply bytes?) is false; else when the total falls
    /// back within the bound, or when `resumeReplyWaiter(connection)` is called (the connection's own
    /// bytes were all given back, or it ends).
    func waitForReplyMemory(connection: UInt64, holds: () -> Bool) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { s -> Bool in
                guard s.replyBytes > s.policy.totalReplyBytes, holds() else { return false }
                s.replyWaiters[connection] = c
                return true
            }
            if !wait { c.resume() }
        }
    }

    /// Resumes the reader of `connection` if it waits in `waitForReplyMemory`.
    func resumeReplyWaiter(_ connection: UInt64) {
        state.withLock { $0.replyWaiters.removeValue(forKey: connection) }?.resume()
    }

    // MARK: counters

    func countRequest(_ p: Principal) {
        state.withLock { s in
            s.requestsTotal += 1
            s.linesByPrincipal[p, default: (0, 0)].requests += 1
        }
    }
    func countError(_ p: Principal) {
        state.withLock { s in
            s.errorsTotal += 1
            s.linesByPrincipal[p, default: (0, 0)].errors += 1
        }
    }

    /// The `stats` result: engine counters, with connections, requests and error lines from the server.
    public func statsResponse() -> StatsResponse {
        let (open, requests, errors) = state.withLock { ($0.connections.count, $0.requestsTotal, $0.errorsTotal) }
        var r = StatsResponse(engine.stats(), server: .init(uptimeSeconds: uptimeSeconds, connections: open,
                                                            requestsTotal: requests, errorsTotal: errors))
        r.scope = "all"
        return r
    }

    /// The `stats` result for `client`: the totals for root and members of `admin_group`
    /// (StatsAccess), else the client's own counts — its connections, request and error lines,
    /// requests and tokens — without the engine's counters.
    public func statsResponse(for client: ClientIdentity) -> StatsResponse {
        let p = client.principal
        if StatsAccess.seesTotals(p, policy: policy) { return statsResponse() }
        let (open, lines) = state.withLock { s in
            (s.connections.values.reduce(0) { $0 + ($1.identity.principal == p ? 1 : 0) }, s.linesByPrincipal[p] ?? (0, 0))
        }
        return StatsResponse(engine.stats(of: p), server: .init(uptimeSeconds: uptimeSeconds, connections: open,
                                                                requestsTotal: lines.requests, errorsTotal: lines.errors))
    }
}
