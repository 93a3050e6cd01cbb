// HTTPListener — the OpenAI-compatible HTTP/1.1 listener on its own Unix socket (`http_socket`), a
// `Listener` beside the JSON-lines one, over swift-nio's own HTTP codec (NIOHTTP1: request parsing,
// chunked bodies, response framing, pipelined requests answered in order). Not hummingbird: it adds
// minutes to CI's cold build (ARCHITECTURE.md).
//
// The socket is bound or adopted exactly like the JSON-lines one (socket activation: the fd named
// "http", never unlinked or shutdown(2); otherwise `SocketPath`'s checks, mode 0660, unlinked at exit
// only if still ours), and each connection's caller is its SO_PEERCRED uid (`Principal.unixUser`),
// so sessions, the prompt cache and limits treat an HTTP client as the same user on the JSON-lines socket.
// Every connection runs in a child of one discarding task group (HTTPConnection.swift). It holds the
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
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: NIOAsyncChannel<Child, Never>
    /// The path we bound ourselves (unlinked on exit if still ours); nil when socket-activated.
    private let ownedPath: String?
    private let ownedIdentity: SocketPath.Identity?
    private let connections = Locked<[UInt64: HTTPConnection]>([:])

    private init(server: ServerState, limits: HTTPLimits,
                 group: MultiThreadedEventLoopGroup, serverChannel: NIOAsyncChannel<Child, Never>, ownedPath: String?) {
        self.server = server
        self.limits = limits
        self.group = group
        self.serverChannel = serverChannel
        self.ownedPath = ownedPath
        self.ownedIdentity = ownedPath.flatMap(SocketPath.identity(of:))
    }

    /// Binds (or adopts) the socket. Connections are accepted once `run()` is called.
    static func bind(_ target: ListenTarget, server: ServerState, limits: HTTPLimits) async throws -> HTTPListener {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group).serverChannelOption(ChannelOptions.backlog, value: 256)
        let initializer: @Sendable (Channel) -> EventLoopFuture<Child> = { channel in
            channel.eventLoop.makeCompletedFuture {
                // Pipelining assistance: a second request read while the first is answered waits its
                // turn; error handling: a request NIO cannot parse gets 400 and the connection closes.
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                return try Child(wrappingChannelSynchronously: channel)
            }
        }
        do {
            let make = { (channel: NIOAsyncChannel<Child, Never>, owned: String?) in
                HTTPListener(server: server, limits: limits, group: group, serverChannel: channel, ownedPath: owned)
            }
            switch target {
            case .activated(let fd):
                return make(try await bootstrap.bind(fd, childChannelInitializer: initializer), nil)
            case .path(let path):
                try SocketPath.prepare(path)
                let channel = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
                // 0660, as the JSON-lines socket (gpt2d-http.socket uses the same mode).
                if chmod(path, 0o660) != 0 {
                    server.logger.warning("chmod 0660 failed", metadata: ["path": "\(path)", "errno": "\(errno)"])
                }
                return make(channel, path)
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Accepts connections until `stopAccepting()`, then waits until every connection has closed.
    func run() async {
        do {
            try await serverChannel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await channel in inbound {
                        group.addTask { await self.serve(channel) }
                    }
                }
            }
        } catch {
            logger.error("HTTP accept loop ended", metadata: ["error": "\(error)"])
        }
    }

    /// Stops accepting: `GET /health` answers 503 from now on (the daemon-wide state), the listening fd
    /// is closed (never shutdown(2)) and a path we bound is unlinked if still ours.
    func stopAccepting() async {
        serving.beginDraining()
        try? await serverChannel.channel.close()
        if let ownedPath, !SocketPath.unlinkIfOurs(ownedPath, identity: ownedIdentity) {
            logger.info("HTTP socket path no longer ours; left in place", metadata: ["path": "\(ownedPath)"])
        }
    }

    func closeWhenIdle() { for c in connections.current.values { c.closeWhenIdle() } }
    func closeNow() { for c in connections.current.values { c.closeNow() } }
    func shutdown() async { try? await group.shutdownGracefully() }
    var openConnections: Int { connections.withLock { $0.count } }

    private func serve(_ channel: Child) async {
        let number = serving.nextConnectionNumber()
        let credentials: PeerCredentials
        do {
            credentials = server.credentialsFilter(try await PeerCredentialsReader.read(channel.channel))
        } catch {
            logger.warning("cannot read peer credentials; closing", metadata: ["error": "\(error)"])
            try? await channel.channel.close()
            return
        }
        let context = HTTPContext(server: server, client: ClientIdentity(uid: credentials.uid, pid: credentials.pid, connection: number),
                                  startedAt: startedAt)
        let connection = HTTPConnection(channel: channel.channel, context: context, limits: limits, logger: logger)
        connections.withLock { $0[number] = connection }
        await connection.run(channel)
        _ = connections.withLock { $0.removeValue(forKey: number) }
    }
}
