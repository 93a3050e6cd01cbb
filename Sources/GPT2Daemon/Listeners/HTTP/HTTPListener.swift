// HTTPListener — the OpenAI-compatible HTTP/1.1 listener on its own Unix socket (`http_socket`), a
// `Listener` beside the JSON-lines one, over swift-nio's own HTTP codec (NIOHTTP1: request parsing,
// chunked bodies, response framing, pipelined requests answered in order). Not hummingbird: it adds
// minutes to CI's cold build (ARCHITECTURE.md).
//
// The socket is bound or adopted by the same `ListeningSocket` as the JSON-lines one (socket
// activation: the fd named "http"), and each connection's caller is its SO_PEERCRED uid (`Principal.unixUser`),
// so sessions, the prompt cache and limits treat an HTTP client as the same user on the JSON-lines socket.
// A second instance listens on a loopback TCP address when `http_tcp` is set: there no peer
// credentials exist, so every request presents a bearer token from `http_tokens_file` and runs as the
// principal it names (BearerTokens.swift, `Principal.token`).
// Each connection (HTTPConnection.swift) runs in the socket's accept loop. It holds the
// daemon's ServerState: the engine, the serving state, and the JSON-lines router gpt2d's own ops use.

import Foundation
import GPT2Systemd
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Bounds on what one HTTP client may send.
struct HTTPLimits: Sendable {
    /// Largest request body (bytes); more → 413. Read per request (`max_line_bytes`, which a reload may change).
    var maxBodyBytes: @Sendable () -> Int
    /// A request must arrive whole within this long of the connection opening or the previous
    /// answer; a slower sender gets 408 and is closed (an idle keep-alive connection is just closed).
    var requestTimeout: TimeAmount = .seconds(30)
}

/// The HTTP listener's loopback TCP socket (`http_tcp`) and its token file (`http_tokens_file`).
struct HTTPTCPSettings: Sendable {
    var address: LoopbackAddress
    var tokens: BearerTokens
}

/// A TCP HTTP listener was asked for without a token file.
struct HTTPTCPNeedsTokens: Error, CustomStringConvertible {
    var description: String { "http_tcp needs http_tokens_file: a TCP client has no Unix identity, so every request must present a bearer token" }
}

final class HTTPListener: Listener, @unchecked Sendable {
    typealias Child = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The daemon's shared state: the engine, the JSON-lines router (gpt2d's own ops, OpsEndpoint), the
    /// serving state, the logger and the peer-credentials filter.
    let server: ServerState
    var engine: Engine { server.engine }
    var serving: ServingState { server.serving }
    var logger: Logger { server.logger }
    let limits: HTTPLimits
    /// Unix seconds the listener was bound (the models' `created`).
    let startedAt = Int(Date().timeIntervalSince1970)
    private let socket: ListeningSocket<Child>
    private let connections = Locked<[UInt64: HTTPConnection]>([:])
    /// On the loopback TCP socket: the token file every request is checked against; nil on a Unix socket.
    let tokens: BearerTokens?

    private init(server: ServerState, limits: HTTPLimits, socket: ListeningSocket<Child>, tokens: BearerTokens?) {
        self.server = server
        self.limits = limits
        self.socket = socket
        self.tokens = tokens
    }

    /// The bound TCP port (tests bind port 0); nil on a Unix socket.
    var tcpPort: Int? { socket.tcpPort }

    /// Binds (or adopts) the socket. Connections are accepted once `run()` is called. A `.tcp` target
    /// needs `tokens` (a TCP peer has no Unix identity).
    static func bind(_ target: ListenTarget, server: ServerState, limits: HTTPLimits,
                     tokens: BearerTokens? = nil) async throws -> HTTPListener {
        if case .tcp = target, tokens == nil { throw HTTPTCPNeedsTokens() }
        let socket = try await ListeningSocket<Child>.bind(target, logger: server.logger) { channel in
            channel.eventLoop.makeCompletedFuture {
                // Pipelining assistance: a second request read while the first is answered waits its
                // turn; error handling: a request NIO cannot parse gets 400 and the connection closes.
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                return try Child(wrappingChannelSynchronously: channel)
            }
        }
        if let port = socket.tcpPort, case .tcp(let address) = target {
            server.logger.info("HTTP listener on loopback TCP", metadata: ["address": "\(LoopbackAddress(host: address.host, port: port))"])
        }
        return HTTPListener(server: server, limits: limits, socket: socket, tokens: tokens)
    }

    /// Accepts connections until `stopAccepting()`, then waits until every connection has closed.
    func run() async { await socket.acceptLoop(logger: logger) { await self.serve($0) } }

    /// Stops accepting: `GET /health` answers 503 from now on (the daemon-wide state) and the listening
    /// fd is closed (ListeningSocket.close).
    func stopAccepting() async {
        serving.beginDraining()
        await socket.close(logger: logger)
    }

    func closeWhenIdle() { for c in connections.current.values { c.closeWhenIdle() } }
    func closeNow() { for c in connections.current.values { c.closeNow() } }
    func shutdown() async { await socket.shutdown() }
    var openConnections: Int { connections.withLock { $0.count } }

    private func serve(_ channel: Child) async {
        let number = serving.nextConnectionNumber()
        let client: ClientIdentity
        if tokens != nil {
            // TCP: no peer credentials; each request's token names its principal (HTTPConnection).
            client = ClientIdentity(principal: .token(name: ""), pid: 0, connection: number)
        } else {
            guard let credentials = await ListeningSocket<Child>.peer(
                of: channel.channel, filter: server.credentialsFilter, logger: logger) else { return }
            client = ClientIdentity(uid: credentials.uid, pid: credentials.pid, connection: number)
        }
        let context = HTTPContext(server: server, client: client, startedAt: startedAt)
        let connection = HTTPConnection(channel: channel.channel, context: context, limits: limits, logger: logger, tokens: tokens)
        connections.withLock { $0[number] = connection }
        await connection.run(channel)
        _ = connections.withLock { $0.removeValue(forKey: number) }
    }
}
