// SocketPath — the checks around binding a Unix socket path ourselves (not socket activation), so a
// second daemon never takes over, or deletes, a live one's socket.
//
//   before binding   the directory must not be writable by others without the sticky bit (anyone could
//                    replace our socket there: refused, not warned about). If the path exists:
//                    not a socket → refused; a socket something answers on (connect(2) succeeds or
//                    its backlog is full) → `alreadyServing` (gpt2d exits 3 "already serving on P");
//                    a socket nobody listens on (ECONNREFUSED) → stale: replaced only when it belongs
//                    to our own uid, refused otherwise; connect failing otherwise (EACCES: we may not
//                    even connect) → refused, since liveness cannot be told.
//   after binding    the socket's (st_dev, st_ino) is recorded (`Identity`).
//   on exit          the path is unlinked only if it still is that inode: a socket another process bound
//                    there since (after removing ours) is left alone.
//
// The probe and the bind are two steps: two daemons started in the same instant can still race
// (one of them then fails in bind with EADDRINUSE, which is exit 3 as well).

import Foundation
import GPT2Systemd
#if canImport(Glibc)
import Glibc
#endif

/// Why a socket path cannot be bound.
public enum SocketPathError: Error, CustomStringConvertible, Equatable {
    /// A daemon answers on the path.
    case alreadyServing(path: String)
    /// The path exists and is not a socket.
    case notASocket(path: String)
    /// A socket nobody listens on, owned by another uid: not ours to remove.
    case foreignStaleSocket(path: String, owner: UInt32)
    /// Whether the socket is live could not be told (connect failed with this errno text).
    case cannotProbe(path: String, reason: String)
    /// The socket's directory is writable by others without the sticky bit (mode in octal).
    case unsafeDirectory(directory: String, mode: UInt32)

    public var description: String {
        switch self {
        case let .alreadyServing(path):
            return "already serving on \(path)"
        case let .notASocket(path):
            return "\(path) exists and is not a socket; refusing to replace it"
        case let .foreignStaleSocket(path, owner):
            return "\(path) is a stale socket owned by uid \(owner), not by this daemon's uid \(getuid()); remove it by hand"
        case let .cannotProbe(path, reason):
            return "\(path) is a socket whose liveness cannot be checked (connect: \(reason)); refusing to replace it"
        case let .unsafeDirectory(directory, mode):
            return "socket directory \(directory) (mode \(String(mode, radix: 8))) is writable by others without the sticky bit; "
                + "anyone could replace the socket there — use a directory only gpt2d's user or group can write"
        }
    }
}

enum SocketPath {
    /// The file a bound path names: compared at exit so only our own socket is unlinked.
    struct Identity: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64
    }

    /// What stands at a path before binding.
    enum Existing: Equatable {
        /// Nothing: bind directly.
        case nothing
        /// A stale socket of our uid: remove it, then bind.
        case staleOwnSocket
    }

    /// The identity of the file at `path` now (lstat), nil when there is none.
    static func identity(of path: String) -> Identity? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Every check before binding (see the file header); throws `SocketPathError` when the path must
    /// not be bound. Changes nothing on disk.
    static func check(_ path: String, uid: UInt32 = getuid()) throws -> Existing {
        try checkDirectory(of: path)
        var st = stat()
        guard lstat(path, &st) == 0 else { return .nothing }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw SocketPathError.notASocket(path: path) }
        switch probe(path) {
        case .live:
            throw SocketPathError.alreadyServing(path: path)
        case .stale:
            guard st.st_uid == uid else { throw SocketPathError.foreignStaleSocket(path: path, owner: st.st_uid) }
            return .staleOwnSocket
        case .unknown(let reason):
            throw SocketPathError.cannotProbe(path: path, reason: reason)
        }
    }

    /// `check`, then removes a stale socket of our own uid. Call right before bind.
    static func prepare(_ path: String) throws {
        if try check(path) == .staleOwnSocket, unlink(path) != 0, errno != ENOENT {
            throw PlatformError(operation: "unlink stale socket \(path)", code: errno)
        }
    }

    /// Unlinks `path` if it is still the socket recorded at bind; returns whether it did.
    @discardableResult
    static func unlinkIfOurs(_ path: String, identity: Identity?) -> Bool {
        guard let identity, self.identity(of: path) == identity else { return false }
        return unlink(path) == 0
    }

    /// Refuses a directory writable by others (o+w) that lacks the sticky bit.
    static func checkDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let dir = directory.isEmpty ? "." : directory
        var st = stat()
        // A missing directory fails in bind with its own clear errno.
        guard stat(dir, &st) == 0 else { return }
        let mode = UInt32(st.st_mode) & 0o7777
        if mode & UInt32(S_IWOTH) != 0 && mode & UInt32(S_ISVTX) == 0 {
            throw SocketPathError.unsafeDirectory(directory: dir, mode: mode)
        }
    }

    enum Liveness: Equatable {
        case live, stale
        case unknown(String)
    }

    /// Connects to `path` without blocking: accepted or backlog full → live; ECONNREFUSED → stale.
    static func probe(_ path: String) -> Liveness {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .unknown(String(cString: strerror(errno))) }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return .unknown("path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if r == 0 { return .live }
        switch errno {
        case EAGAIN, EINPROGRESS: return .live
        case ECONNREFUSED: return .stale
        case ENOENT: return .stale
        default: return .unknown(String(cString: strerror(errno)))
        }
    }
}
