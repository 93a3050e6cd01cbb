// PeerCredentials — who is on the other end of a connected Unix socket (SO_PEERCRED, unix(7)).
//
// Plain Glibc, no libsystemd; it lives here because it is the platform layer. Ask the *accepted*
// connection: on the listening socket systemd handed over, SO_PEERCRED describes whoever bound it
// (PID 1). The kernel records the credentials at connect(2) time; they do not follow later
// setuid/fd passing.

#if canImport(Glibc)
import Glibc
#endif

/// The peer's process id, user id and group id as the kernel recorded them at `connect(2)`.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public let pid: pid_t
    public let uid: uid_t
    public let gid: gid_t

    public init(pid: pid_t, uid: uid_t, gid: gid_t) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// Reads `SO_PEERCRED` of a connected `AF_UNIX` socket.
    /// - Throws: `PlatformError` with the errno of `getsockopt(2)` (e.g. `ENOTSOCK`, `EBADF`).
    public init(fileDescriptor fd: Int32) throws {
        var cred = LinuxUCred()
        var length = socklen_t(MemoryLayout<LinuxUCred>.size)
        let r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length)
        guard r == 0 else { throw PlatformError(operation: "getsockopt(SO_PEERCRED)", code: Glibc.errno) }
        guard length == socklen_t(MemoryLayout<LinuxUCred>.size) else {
            throw PlatformError(operation: "getsockopt(SO_PEERCRED)", code: EINVAL)
        }
        self.init(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }

    public var description: String { "pid=\(pid) uid=\(uid) gid=\(gid)" }
}

/// `struct ucred` from <sys/socket.h>. Glibc only declares it under `_GNU_SOURCE`, which the Swift
/// Glibc module does not define, so it is mirrored here; the layout (three 32-bit ints) is kernel ABI.
private struct LinuxUCred {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}

/// A failed system call: the operation and its errno.
public struct PlatformError: Error, Sendable, Equatable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(String(cString: strerror(code))) (errno \(code))" }
}
