// UnixServer — the listening socket and the accept loop (swift-nio, async NIOAsyncChannel API).
//
// Why the async API rather than channel handlers: a connection here is two plain loops (read lines,
// write lines) plus requests that finish on other threads; with NIOAsyncChannel that is straight-line
// code with structured lifetimes, as in NIO's TCP echo server example. Every connection runs in a child of
// one `withDiscardingTaskGroup`: a plain task group would keep each finished child's result until the
// group ends (a leak in a long-running server); a discarding group drops it at once.
//
// Where the socket comes from:
//   * socket activation (`LISTEN_FDS`): the fd systemd bound is adopted as is. It is never unlinked and
//     never shutdown(2): PID 1 shares it (see GPT2Systemd/SocketActivation.swift). We only close our copy.
//   * otherwise we bind `--socket` ourselves after SocketPath's checks (a live socket is never taken
//     over: `SocketPathError.alreadyServing`; only a stale socket of our own uid is removed; no
//     directory writable by others without the sticky bit); the file gets mode 0660, and on exit it is
//     unlinked only if it is still the inode we bound.

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
}

final class UnixServer: Listener, @unchecked Sendable {
    let state: ServerState
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    /// The path we bound ourselves (unlinked on exit if still ours); nil when socket-activated.
    let ownedPath: String?
    /// (st_dev, st_ino) of `ownedPath` right after bind.
    let ownedIdentity: SocketPath.Identity?

    private init(state: ServerState, group: MultiThreadedEventLoopGroup,
                 serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>, ownedPath: String?) {
        self.state = state
        self.group = group
        self.serverChannel = serverChannel
        self.ownedPath = ownedPath
        self.ownedIdentity = ownedPath.flatMap(SocketPath.identity(of:))
    }

    /// Binds (or adopts) the socket. Connections are accepted once `run()` is called.
    static func bind(_ target: ListenTarget, state: ServerState, eventLoopThreads: Int = 1) async throws -> UnixServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // Keep the write side open after the client's EOF, so a client that shuts down its write
            // side still gets its answers.
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        do {
            switch target {
            case .activated(let fd):
                let channel = try await bootstrap.bind(fd, childChannelInitializer: initializer)
                return UnixServer(state: state, group: group, serverChannel: channel, ownedPath: nil)
            case .path(let path):
                try SocketPath.prepare(path)
                let channel = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
                // 0660: the owner and its group may connect (gpt2d.socket uses the same mode).
                if chmod(path, 0o660) != 0 {
                    state.logger.warning("chmod 0660 failed", metadata: ["path": "\(path)", "errno": "\(errno)"])
                }
                return UnixServer(state: state, group: group, serverChannel: channel, ownedPath: path)
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Removes a leftover socket file of our uid that nobody listens on; refuses anything else
    /// (`SocketPath.prepare`).
    static func removeStaleSocket(at path: String) throws {
        try SocketPath.prepare(path)
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
            state.logger.error("accept loop ended", metadata: ["error": "\(error)"])
        }
    }

    /// Stops accepting: closes our listening fd (close(2) only, never shutdown(2)); connections stay.
    /// The path is unlinked only if it is still the socket we bound.
    func stopAccepting() async {
        try? await serverChannel.channel.close()
        if let ownedPath, !SocketPath.unlinkIfOurs(ownedPath, identity: ownedIdentity) {
            state.logger.info("socket path no longer ours; left in place", metadata: ["path": "\(ownedPath)"])
        }
    }

    /// Stops the event loops (after `run()` returned).
    func shutdownEventLoops() async {
        try? await group.shutdownGracefully()
    }

    // MARK: Listener

    func closeWhenIdle() { state.closeAllConnections() }
    func closeNow() { state.forceCloseAllConnections() }
    func shutdown() async { await shutdownEventLoops() }
    var openConnections: Int { state.openConnections }

    private func serve(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let number = state.nextConnectionNumber()
        let credentials: PeerCredentials
        do {
            credentials = state.credentialsFilter(try await PeerCredentialsReader.read(channel.channel))
        } catch {
            state.logger.warning("cannot read peer credentials; closing", metadata: ["error": "\(error)"])
            try? await channel.channel.close()
            return
        }
        let connection = Connection(number: number, credentials: credentials, server: state)
        state.register(connection)
        state.logger.debug("connection opened", metadata: ["connection": "\(number)", "peer": "\(credentials)"])
        await connection.run(channel)
        state.unregister(connection)
        state.logger.debug("connection closed", metadata: ["connection": "\(number)"])
    }
}

/// SO_PEERCRED of an accepted NIO channel.
///
/// NIO does not expose a channel's fd, so `PeerCredentials(fileDescriptor:)` cannot be used; instead the
/// option is read through NIO's `SocketOptionProvider` on the channel's event loop, into a mirror of
/// `struct ucred` (three 32-bit fields, kernel ABI; Glibc only declares it under `_GNU_SOURCE`).
enum PeerCredentialsReader {
    struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static func read(_ channel: Channel) async throws -> PeerCredentials {
        guard let provider = channel as? SocketOptionProvider else {
            throw PlatformError(operation: "getsockopt(SO_PEERCRED): not a socket channel", code: ENOTSOCK)
        }
        let cred: UCred = try await provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                   name: SocketOptionName(SO_PEERCRED)).get()
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }
}
