// PeerCredentials: SO_PEERCRED on a socketpair names this very process.

@testable import GPT2Systemd
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct PeerCredentialsTests {
    @Test func socketPairReportsOwnProcess() throws {
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let expected = PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid())
        #expect(try PeerCredentials(fileDescriptor: fds[0]) == expected)
        #expect(try PeerCredentials(fileDescriptor: fds[1]) == expected)
        #expect(expected.description == "pid=\(getpid()) uid=\(getuid()) gid=\(getgid())")
    }

    @Test func nonSocketThrowsWithErrno() throws {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(throws: PlatformError(operation: "getsockopt(SO_PEERCRED)", code: ENOTSOCK)) {
            try PeerCredentials(fileDescriptor: fds[0])
        }
    }

    @Test func closedDescriptorThrows() {
        #expect(throws: PlatformError.self) { try PeerCredentials(fileDescriptor: -1) }
    }
}
