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

    private let startNanos = DispatchTime.now().uptimeNanoseconds
    private struct Mutable {
        var maxLineBytes: Int
        var connections: [UInt64: Connection] = [:]
        var connectionsTotal = 0
        var requestsTotal = 0
        var errorsTotal = 0
    }
    private let state: Locked<Mutable>

    init(
        engine: Engine,
        router: Router = .v1,
        maxLineBytes: Int,
        logger: Logger,
        credentialsFilter: @escaping @Sendable (PeerCredentials) -> PeerCredentials = { $0 },
        serving: ServingState = ServingState()
    ) {
        self.serving = serving
        self.engine = engine
        self.router = router
        self.logger = logger
        self.credentialsFilter = credentialsFilter
        self.state = Locked(Mutable(maxLineBytes: maxLineBytes))
    }

    // MARK: limits and lifecycle

    /// The line limit for connections accepted from now on (a reload may change it).
    public var maxLineBytes: Int {
        get { state.withLock { $0.maxLineBytes } }
        set { state.withLock { $0.maxLineBytes = newValue } }
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

    // MARK: counters

    func countRequest() { state.withLock { $0.requestsTotal += 1 } }
    func countError() { state.withLock { $0.errorsTotal += 1 } }

    /// The `stats` result: engine counters, with connections, requests and error lines from the server.
    public func statsResponse() -> StatsResponse {
        let (open, requests, errors) = state.withLock { ($0.connections.count, $0.requestsTotal, $0.errorsTotal) }
        return StatsResponse(engine.stats(), server: .init(uptimeSeconds: uptimeSeconds, connections: open,
                                                           requestsTotal: requests, errorsTotal: errors))
    }
}
