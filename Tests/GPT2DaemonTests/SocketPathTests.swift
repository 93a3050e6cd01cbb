// SocketPathTests — a live socket is never taken over or unlinked: SocketPath's checks one by one, and
// the real gpt2d binary started on a path another gpt2d serves (exit 3, the first keeps answering) or
// on a stale socket file (replaced, serves).

import Foundation
@testable import GPT2Daemon
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A Unix stream socket bound at `path`; listening when `listen` is true (else closed at once: stale).
private func makeSocket(at path: String, listening: Bool) throws -> Int32? {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in path.utf8.enumerated() { raw[i] = b }
    }
    let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard r == 0 else { throw TestError.io("bind \(path): errno \(errno)") }
    if listening {
        guard listen(fd, 4) == 0 else { throw TestError.io("listen: errno \(errno)") }
        return fd
    }
    close(fd)
    return nil
}

@Suite struct SocketPathTests {
    @Test func checksEveryKindOfExistingPath() throws {
        let free = TestPaths.tempSocket("free")
        #expect(try SocketPath.check(free) == .nothing)

        let regular = TestPaths.tempSocket("file")
        #expect(FileManager.default.createFile(atPath: regular, contents: Data("x".utf8)))
        defer { unlink(regular) }
        #expect(throws: SocketPathError.notASocket(path: regular)) { try SocketPath.check(regular) }

        let stale = TestPaths.tempSocket("stale")
        defer { unlink(stale) }
        _ = try makeSocket(at: stale, listening: false)
        #expect(try SocketPath.check(stale) == .staleOwnSocket)
        // Another uid's stale socket is not ours to remove.
        #expect(throws: SocketPathError.foreignStaleSocket(path: stale, owner: getuid())) {
            try SocketPath.check(stale, uid: getuid() &+ 4242)
        }

        let live = TestPaths.tempSocket("live")
        defer { unlink(live) }
        let fd = try makeSocket(at: live, listening: true)!
        defer { close(fd) }
        #expect(throws: SocketPathError.alreadyServing(path: live)) { try SocketPath.check(live) }
        #expect(throws: SocketPathError.alreadyServing(path: live)) { try SocketPath.prepare(live) }
        #expect(FileManager.default.fileExists(atPath: live))
        #expect("\(SocketPathError.alreadyServing(path: live))" == "already serving on \(live)")
    }

    @Test func refusesADirectoryOthersMayWriteWithoutTheStickyBit() throws {
        let dir = TestPaths.tempSocket("dir")
        #expect(mkdir(dir, 0o700) == 0)
        defer { rmdir(dir) }
        #expect(chmod(dir, 0o777) == 0)
        #expect(throws: SocketPathError.unsafeDirectory(directory: dir, mode: 0o777)) {
            try SocketPath.check(dir + "/s.sock")
        }
        #expect(chmod(dir, 0o1777) == 0)   // sticky, like /tmp: others cannot remove our socket
        #expect(try SocketPath.check(dir + "/s.sock") == .nothing)
        #expect(chmod(dir, 0o775) == 0)    // group-writable only: allowed
        #expect(try SocketPath.check(dir + "/s.sock") == .nothing)
    }

    @Test func unlinksOnlyTheInodeItBound() throws {
        let path = TestPaths.tempSocket("ino")
        defer { unlink(path) }
        _ = try makeSocket(at: path, listening: false)
        let first = SocketPath.identity(of: path)
        #expect(first != nil)
        // Someone else's socket at the same path now (ours moved aside, so its inode stays taken).
        #expect(rename(path, path + ".old") == 0)
        defer { unlink(path + ".old") }
        _ = try makeSocket(at: path, listening: false)
        #expect(!SocketPath.unlinkIfOurs(path, identity: first))
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(SocketPath.unlinkIfOurs(path, identity: SocketPath.identity(of: path)))
        #expect(!FileManager.default.fileExists(atPath: path))
    }


    @Test func aSecondDaemonOnALiveSocketExits3AndTheFirstStillAnswers() async throws {
        let sock = TestPaths.tempSocket("two")
        defer { unlink(sock) }
        let first = try ChildProcess(TestPaths.gpt2dBinary, ["--model", "tiny=\(TestPaths.tinyModel)", "--threads", "1",
                                                            "--socket", sock])
        defer { first.killAndReap() }
        #expect(try await eventually(timeout: 30) { FileManager.default.fileExists(atPath: sock) })
        let c = try await TestClient.connect(sock)
        #expect(try await c.call("health", id: 1).string("status") == "ok")

        let second = try ChildProcess(TestPaths.gpt2dBinary, ["--model", "tiny=\(TestPaths.tinyModel)", "--threads", "1",
                                                             "--socket", sock])
        defer { second.killAndReap() }
        #expect(try await second.wait() == 3)
        #expect(second.output.1.contains("already serving on \(sock)"))
        #expect(FileManager.default.fileExists(atPath: sock))
        #expect(try await c.call("health", id: 2).string("status") == "ok")
        let c2 = try await TestClient.connect(sock)
        #expect(try await c2.call("health", id: 3).string("status") == "ok")

        kill(first.pid, SIGTERM)
        #expect(try await first.wait() == 0)
        #expect(!FileManager.default.fileExists(atPath: sock))
    }

    @Test func aStaleSocketOfOurUidIsReplaced() async throws {
        let sock = TestPaths.tempSocket("st")
        defer { unlink(sock) }
        _ = try makeSocket(at: sock, listening: false)
        #expect(SocketPath.probe(sock) == .stale)
        let p = try ChildProcess(TestPaths.gpt2dBinary, ["--model", "tiny=\(TestPaths.tinyModel)", "--threads", "1",
                                                        "--socket", sock])
        defer { p.killAndReap() }
        #expect(try await eventually(timeout: 30) { SocketPath.probe(sock) == .live })
        let c = try await TestClient.connect(sock)
        #expect(try await c.call("health", id: 1).string("status") == "ok")
        kill(p.pid, SIGTERM)
        #expect(try await p.wait() == 0)
    }
}
