// SocketActivation — listening sockets handed over by systemd (sd_listen_fds(3), systemd.socket(5)).
//
// systemd (or `systemd-socket-activate`) binds the socket, then starts the daemon with the socket on
// fd 3 (`SD_LISTEN_FDS_START`) and upwards, and sets `LISTEN_FDS=<count>`, `LISTEN_PID=<our pid>`,
// `LISTEN_FDNAMES=<name>:<name>…` (from `FileDescriptorName=`; "unknown" when absent).
//
// Environment: `listenFileDescriptors()` calls `sd_listen_fds_with_names(1, …)` by default, i.e. it
// UNSETS `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES`. The variables describe fds of *this* process;
// a child inheriting them would misread them, and a second call would hand the same fds out twice.
// Consequence: call it once at start-up and keep the result. libsystemd also sets FD_CLOEXEC on the fds.
//
// TRAP — the socket belongs to systemd as much as to us. PID 1 keeps its own copy of the listening fd
// so it can start the daemon again on the next connection. Therefore the daemon must:
//   * never `unlink(2)` the socket path (the socket unit would listen on a name nobody can reach), and
//   * never `shutdown(2)` the listening fd (that shuts the shared socket down for PID 1 as well);
//   * only `close(2)` its own copy on exit (or just exit). `RemoveOnStop=` in gpt2d.socket cleans up.
// When the daemon binds its own socket (no activation), unlinking on exit is its own business.

import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// One file descriptor passed in by socket activation.
public struct ActivatedSocket: Sendable, Equatable {
    /// The descriptor (3, 4, …). Owned by the process from now on; see the trap in SocketActivation.swift.
    public let fileDescriptor: Int32
    /// Its name from `LISTEN_FDNAMES` (`FileDescriptorName=` in the .socket unit); "unknown" if unnamed.
    public let name: String
    /// True when it is an `AF_UNIX` `SOCK_STREAM` socket in listening state
    /// (`sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0`) — what gpt2d can `accept(2)` on.
    public let isUnixStreamListener: Bool

    public init(fileDescriptor: Int32, name: String, isUnixStreamListener: Bool) {
        self.fileDescriptor = fileDescriptor
        self.name = name
        self.isUnixStreamListener = isUnixStreamListener
    }
}

/// Reads the sockets systemd passed to this process.
public enum SocketActivation {
    /// The first passed descriptor (`SD_LISTEN_FDS_START`).
    public static let firstFileDescriptor: Int32 = 3

    /// The descriptors passed by socket activation, in order (fd 3, 4, …); empty when the process was
    /// not socket-activated or `LISTEN_PID` names another process.
    ///
    /// - Parameter unsetEnvironment: remove `LISTEN_FDS`/`LISTEN_PID`/`LISTEN_FDNAMES` afterwards
    ///   (default true: children must not inherit them; a second call then returns `[]`).
    public static func listenFileDescriptors(unsetEnvironment: Bool = true) -> [ActivatedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = sd_listen_fds_with_names(unsetEnvironment ? 1 : 0, &names)
        defer {
            // The array and each string are malloc'd by libsystemd (strv); free both.
            if let names {
                var i = 0
                while let entry = names[i] {
                    free(entry)
                    i += 1
                }
                free(names)
            }
        }
        guard count > 0 else { return [] }
        var result: [ActivatedSocket] = []
        result.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let fd = firstFileDescriptor + Int32(index)
            var name = "unknown"
            if let names, let entry = names[index] {
                name = String(cString: entry)
            }
            let listener = sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0
            result.append(ActivatedSocket(fileDescriptor: fd, name: name, isUnixStreamListener: listener))
        }
        return result
    }

    /// The first passed Unix stream listener named `name` (gpt2d.socket uses `FileDescriptorName=gpt2d`),
    /// falling back to the only Unix stream listener when exactly one was passed and it is unnamed.
    public static func unixListener(named name: String, in sockets: [ActivatedSocket]) -> ActivatedSocket? {
        let listeners = sockets.filter(\.isUnixStreamListener)
        if let match = listeners.first(where: { $0.name == name }) { return match }
        if listeners.count == 1, listeners[0].name == "unknown" { return listeners[0] }
        return nil
    }
}
