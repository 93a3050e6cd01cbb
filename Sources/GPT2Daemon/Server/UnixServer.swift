// UnixServer — the listening socket and the accept loop (swift-nio, async NIOAsyncChannel API).
//
// Why the async API rather than channel handlers: a connection here is two plain loops (read lines,
// write lines) plus requests that finish on other threads; with NIOAsyncChannel that is straight-line
// code with structured lifetimes, as in NIO's TCP echo server example. Every connection runs in a child of
// one `withDiscardingTaskGroup`: a plain task group would keep each finished child's result until the
// group ends (a leak in a long-running server); a discarding group drops it at once.
//
// The socket itself (activation or our own bind, SocketPath's rules, 0660, unlink only if still ours)
// is `ListeningSocket`, shared with the HTTP listener.

import Foundation
import GPT2Systemd
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Where to listen.
public enum ListenTarget: Sendable, Equatable {
    /// Bind this path (after `SocketPath.check`: a stale socket file of our uid is removed first).
    case path(String)
    /// Adopt a listening socket passed by socket activation.
    case activated(fileDescriptor: Int32)
    /// Bind this loopback TCP address (the HTTP listener only, with bearer tokens: `http_tcp`).
    case tcp(LoopbackAddress)
}

/// The JSON-lines listener was given a TCP address (only the HTTP listener takes one).
struct TCPNotForJSONLines: Error, CustomStringConvertible {
    var address: LoopbackAddress
    var description: String { "the JSON-lines socket is a Unix socket only; \(address) is TCP" }
}

final class UnixServer: Listener, @unchecked Sendable {
    typealias Child = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    let state: ServerState
    private let socket: ListeningSocket<Child>

    private init(state: ServerState, socket: ListeningSocket<Child>) {
        self.state = state
        self.socket = socket
    }

    /// Binds (or adopts) the socket. Connections are accepted once `run()` is called.
    static func bind(_ target: ListenTarget, state: ServerState, eventLoopThreads: Int = 1) async throws -> UnixServer {
        // JSON lines identify clients by SO_PEERCRED: a TCP socket has no such thing.
        if case .tcp(let address) = target { throw TCPNotForJSONLines(address: address) }
        let socket = try await ListeningSocket<Child>.bind(
            target, eventLoopThreads: eventLoopThreads, logger: state.logger,
            // Keep the write side open after the client's EOF, so a client that shuts down its write
            // side still gets its answers.
            configure: { $0.childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true) },
            initializer: { channel in
                channel.eventLoop.makeCompletedFuture { try Child(wrappingChannelSynchronously: channel) }
            })
        return UnixServer(state: state, socket: socket)
    }

    /// Removes a leftover socket file of our uid that nobody listens on; refuses anything else
    /// (`SocketPath.prepare`).
    static func removeStaleSocket(at path: String) throws {
        try SocketPath.prepare(path)
    }

    /// Accepts connections until `stopAccepting()`, then waits until every connection has closed.
    func run() async { await socket.acceptLoop(logger: state.logger) { await self.serve($0) } }

    /// Stops accepting: `health` answers shutting_down from now on, and our listening fd is closed;
    /// connections stay (ListeningSocket.close).
    func stopAccepting() async {
        state.beginDraining()
        await socket.close(logger: state.logger)
    }

    // MARK: Listener

    func closeWhenIdle() { state.closeAllConnections() }
    func closeNow() { state.forceCloseAllConnections() }
    func shutdown() async { await socket.shutdown() }
    var openConnections: Int { state.openConnections }

    private func serve(_ channel: Child) async {
        let number = state.nextConnectionNumber()
        guard let credentials = await ListeningSocket<Child>.peer(
            of: channel.channel, filter: state.credentialsFilter, logger: state.logger) else { return }
        let connection = Connection(number: number, credentials: credentials, server: state)
        state.register(connection)
        state.logger.debug("connection opened", metadata: ["connection": "\(number)", "peer": "\(credentials)"])
        await connection.run(channel)
        state.unregister(connection)
        state.logger.debug("connection closed", metadata: ["connection": "\(number)"])
    }
}
