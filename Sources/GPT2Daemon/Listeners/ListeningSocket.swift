// ListeningSocket — the listening side every listener shares (the JSON-lines `UnixServer`, the HTTP
// `HTTPListener` on its Unix socket and, when configured, on loopback TCP); they differ only in their
// child channels' pipelines.
//
// Where the socket comes from:
//   * socket activation (`LISTEN_FDS`): the fd systemd bound is adopted as is. It is never unlinked and
//     never shutdown(2): PID 1 shares it (see GPT2Systemd/SocketActivation.swift). We only close our copy.
//   * otherwise the path is bound after SocketPath's checks (a live socket is never taken over:
//     `SocketPathError.alreadyServing`; only a stale socket of our own uid is removed; no directory
//     writable by others without the sticky bit); the file gets mode 0660, and on close it is unlinked
//     only if it is still the inode we bound.
//   * `.tcp`: a loopback address (LoopbackAddress; SO_REUSEADDR, so a restart binds again at once while
//     old connections linger in TIME_WAIT). Only the HTTP listener binds one, and it authenticates
//     every request there with a bearer token (no peer credentials exist on TCP).
// Every accepted connection runs in a child of one discarding task group: a plain task group would
// keep each finished child's result until the group ends (a leak in a long-running server).

import Foundation
import GPT2Systemd
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

struct ListeningSocket<Child: Sendable>: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: NIOAsyncChannel<Child, Never>
    /// The path we bound ourselves (unlinked on close if still ours); nil when socket-activated.
    let ownedPath: String?
    /// (st_dev, st_ino) of `ownedPath` right after bind.
    private let ownedIdentity: SocketPath.Identity?

    /// Binds `target` (or adopts its activated fd) on a group of `eventLoopThreads`. `configure` adds
    /// the listener's own bootstrap options; `initializer` builds each accepted channel's pipeline.
    /// Connections are accepted once `acceptLoop` runs.
    static func bind(
        _ target: ListenTarget, eventLoopThreads: Int = 1, logger: Logger,
        configure: (ServerBootstrap) -> ServerBootstrap = { $0 },
        initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Child>
    ) async throws -> Self {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads)
        let bootstrap = configure(ServerBootstrap(group: group).serverChannelOption(ChannelOptions.backlog, value: 256))
        do {
            switch target {
            case .activated(let fd):
                let channel = try await bootstrap.bind(fd, childChannelInitializer: initializer)
                return Self(group: group, serverChannel: channel, ownedPath: nil, ownedIdentity: nil)
            case .tcp(let address):
                let channel = try await bootstrap
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: address.host, port: address.port, childChannelInitializer: initializer)
                return Self(group: group, serverChannel: channel, ownedPath: nil, ownedIdentity: nil)
            case .path(let path):
                try SocketPath.prepare(path)
                let channel = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
                // 0660: the owner and its group may connect (the .socket units use the same mode).
                if chmod(path, 0o660) != 0 {
                    logger.warning("chmod 0660 failed", metadata: ["path": "\(path)", "errno": "\(errno)"])
                }
                return Self(group: group, serverChannel: channel, ownedPath: path, ownedIdentity: SocketPath.identity(of: path))
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Accepts connections, each served by `serve` in its own child task, until `close()`; then waits
    /// until every connection has been served.
    func acceptLoop(logger: Logger, serve: @escaping @Sendable (Child) async -> Void) async {
        do {
            try await serverChannel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await channel in inbound {
                        group.addTask { await serve(channel) }
                    }
                }
            }
        } catch {
            logger.error("accept loop ended", metadata: ["error": "\(error)", "socket": "\(ownedPath ?? "activated")"])
        }
    }

    /// Stops accepting: our listening fd is closed (close(2) only, never shutdown(2)); connections stay.
    /// The path is unlinked only if it is still the socket we bound.
    func close(logger: Logger) async {
        try? await serverChannel.channel.close()
        if let ownedPath, !SocketPath.unlinkIfOurs(ownedPath, identity: ownedIdentity) {
            logger.info("socket path no longer ours; left in place", metadata: ["path": "\(ownedPath)"])
        }
    }

    /// The bound TCP port (`.tcp` with port 0 asks the kernel for one); nil for a Unix socket.
    var tcpPort: Int? { serverChannel.channel.localAddress?.port }

    /// Stops the event loops (after `acceptLoop` returned).
    func shutdown() async { try? await group.shutdownGracefully() }

    /// SO_PEERCRED of an accepted channel through `filter` (tests), or nil — the channel closed, with a
    /// warning — when the kernel does not say.
    static func peer(of channel: Channel, filter: @Sendable (PeerCredentials) -> PeerCredentials,
                     logger: Logger) async -> PeerCredentials? {
        do {
            return filter(try await PeerCredentialsReader.read(channel))
        } catch {
            logger.warning("cannot read peer credentials; closing", metadata: ["error": "\(error)"])
            try? await channel.close()
            return nil
        }
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
