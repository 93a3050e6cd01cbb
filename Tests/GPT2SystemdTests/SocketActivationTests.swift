// SocketActivation in-process: the socket is placed at fd 3 (SD_LISTEN_FDS_START) and LISTEN_* set,
// exactly what systemd / systemd-socket-activate do before exec'ing the daemon. Whatever fd 3 was is
// saved and restored.

@testable import GPT2Systemd
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EnvironmentTests {
    @Suite struct SocketActivationTests {
        @Test func findsNamedUnixStreamListenerAndUnsetsEnvironment() throws {
            let path = TempPath.make("activate") + ".sock"
            let fd = try makeUnixSocket(type: SOCK_STREAM, path: path, listening: true)
            defer { close(fd); unlink(path) }

            try withDescriptorThree(fd) {
                try withEnvironment([
                    "LISTEN_FDS": "1", "LISTEN_PID": String(getpid()), "LISTEN_FDNAMES": "gpt2d",
                ]) {
                    let sockets = SocketActivation.listenFileDescriptors()
                    #expect(sockets == [ActivatedSocket(fileDescriptor: 3, name: "gpt2d", isUnixStreamListener: true)])
                    // Unset by default: children must not inherit them, a second call finds nothing.
                    #expect(getenv("LISTEN_FDS") == nil)
                    #expect(getenv("LISTEN_PID") == nil)
                    #expect(getenv("LISTEN_FDNAMES") == nil)
                    #expect(SocketActivation.listenFileDescriptors().isEmpty)
                    // libsystemd marks passed fds close-on-exec.
                    #expect(fcntl(3, F_GETFD) & FD_CLOEXEC != 0)

                    let listener = try #require(SocketActivation.unixListener(named: "gpt2d", in: sockets))
                    #expect(listener.fileDescriptor == 3)

                    // The inherited fd accepts connections to the path, and SO_PEERCRED names the client.
                    let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                    defer { close(client) }
                    try connectUnix(fd: client, path: path)
                    let connection = accept(listener.fileDescriptor, nil, nil)
                    try #require(connection >= 0)
                    defer { close(connection) }
                    let peer = try PeerCredentials(fileDescriptor: connection)
                    #expect(peer == PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid()))
                }
            }
        }

        @Test func keepsEnvironmentWhenAsked() throws {
            let path = TempPath.make("activate") + ".sock"
            let fd = try makeUnixSocket(type: SOCK_STREAM, path: path, listening: true)
            defer { close(fd); unlink(path) }
            try withDescriptorThree(fd) {
                withEnvironment(["LISTEN_FDS": "1", "LISTEN_PID": String(getpid()), "LISTEN_FDNAMES": "gpt2d"]) {
                    let first = SocketActivation.listenFileDescriptors(unsetEnvironment: false)
                    #expect(first.map(\.name) == ["gpt2d"])
                    #expect(getenv("LISTEN_FDS").map { String(cString: $0) } == "1")
                    #expect(SocketActivation.listenFileDescriptors(unsetEnvironment: false) == first)
                }
            }
        }

        @Test func wrongListenPidYieldsNothing() throws {
            let path = TempPath.make("activate") + ".sock"
            let fd = try makeUnixSocket(type: SOCK_STREAM, path: path, listening: true)
            defer { close(fd); unlink(path) }
            try withDescriptorThree(fd) {
                withEnvironment(["LISTEN_FDS": "1", "LISTEN_PID": String(getpid() + 1), "LISTEN_FDNAMES": "gpt2d"]) {
                    #expect(SocketActivation.listenFileDescriptors().isEmpty)
                }
                withEnvironment(["LISTEN_FDS": nil, "LISTEN_PID": nil, "LISTEN_FDNAMES": nil]) {
                    #expect(SocketActivation.listenFileDescriptors().isEmpty)
                }
            }
        }

        @Test func reportsNonListenersAndUnnamedSockets() throws {
            // A datagram socket: passed, but not something gpt2d can accept on.
            let path = TempPath.make("activate-dgram") + ".sock"
            let dgram = try makeUnixSocket(type: SOCK_DGRAM, path: path, listening: false)
            defer { close(dgram); unlink(path) }
            try withDescriptorThree(dgram) {
                withEnvironment(["LISTEN_FDS": "1", "LISTEN_PID": String(getpid()), "LISTEN_FDNAMES": nil]) {
                    let sockets = SocketActivation.listenFileDescriptors()
                    #expect(sockets == [ActivatedSocket(fileDescriptor: 3, name: "unknown", isUnixStreamListener: false)])
                    #expect(SocketActivation.unixListener(named: "gpt2d", in: sockets) == nil)
                }
            }
            // A stream socket that is bound but not listening.
            let path2 = TempPath.make("activate-nolisten") + ".sock"
            let stream = try makeUnixSocket(type: SOCK_STREAM, path: path2, listening: false)
            defer { close(stream); unlink(path2) }
            try withDescriptorThree(stream) {
                withEnvironment(["LISTEN_FDS": "1", "LISTEN_PID": String(getpid()), "LISTEN_FDNAMES": "gpt2d"]) {
                    #expect(SocketActivation.listenFileDescriptors().first?.isUnixStreamListener == false)
                }
            }
        }
    }
}

@Suite struct ActivatedSocketSelectionTests {
    @Test func picksByNameThenSoleUnnamedListener() {
        let named = ActivatedSocket(fileDescriptor: 4, name: "gpt2d", isUnixStreamListener: true)
        let other = ActivatedSocket(fileDescriptor: 3, name: "metrics", isUnixStreamListener: true)
        let unnamed = ActivatedSocket(fileDescriptor: 3, name: "unknown", isUnixStreamListener: true)
        let notListening = ActivatedSocket(fileDescriptor: 5, name: "gpt2d", isUnixStreamListener: false)

        #expect(SocketActivation.unixListener(named: "gpt2d", in: [other, named]) == named)
        #expect(SocketActivation.unixListener(named: "gpt2d", in: [notListening]) == nil)
        #expect(SocketActivation.unixListener(named: "gpt2d", in: [unnamed]) == unnamed)
        #expect(SocketActivation.unixListener(named: "gpt2d", in: [other]) == nil)
        #expect(SocketActivation.unixListener(named: "gpt2d", in: []) == nil)
    }
}

// MARK: - helpers

/// A Unix socket of `type` bound to `path`, listening if asked.
func makeUnixSocket(type: __socket_type, path: String, listening: Bool) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
    do {
        try bindUnix(fd: fd, address: path)
        if listening, listen(fd, 8) != 0 { throw TestFailure("listen: errno \(errno)") }
    } catch {
        close(fd)
        throw error
    }
    return fd
}

func connectUnix(fd: Int32, path: String) throws {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
    let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + 1
    let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(length)) }
    }
    guard r == 0 else { throw TestFailure("connect \(path): errno \(errno)") }
}

/// Runs `body` with a duplicate of `fd` at descriptor 3, then puts back whatever fd 3 was before
/// (including its close-on-exec flag), or closes 3 if it was free.
func withDescriptorThree<T>(_ fd: Int32, _ body: () throws -> T) throws -> T {
    let previousFlags = fcntl(3, F_GETFD)  // -1 (EBADF) when fd 3 is free
    let saved: Int32 = previousFlags >= 0 ? fcntl(3, F_DUPFD_CLOEXEC, 10) : -1
    if previousFlags >= 0, saved < 0 { throw TestFailure("cannot save fd 3: errno \(errno)") }
    guard dup2(fd, 3) == 3 else { throw TestFailure("dup2 to fd 3: errno \(errno)") }
    defer {
        if saved >= 0 {
            dup2(saved, 3)
            _ = fcntl(3, F_SETFD, previousFlags)
            close(saved)
        } else {
            close(3)
        }
    }
    return try body()
}
