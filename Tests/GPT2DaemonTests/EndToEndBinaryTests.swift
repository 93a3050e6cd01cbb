// EndToEndBinaryTests — the built `gpt2d` executable: help/version/exit codes, and a real start under
// `systemd-socket-activate` with a fake NOTIFY_SOCKET (READY, STATUS, WATCHDOG, STOPPING, exit 0).
// The binary is found next to the test bundle (`swift build --build-tests` builds it).

import Foundation
import GPT2TestSupport
import GPT2Wire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and reaped with a non-blocking waitpid.
///
/// Not Foundation's `Process`: its single monitor thread does a blocking waitpid for a child whose
/// inherited fds were closed, and systemd-socket-activate closes them at once while it waits for a
/// connection; every other `Process` of the test run (other suites run some) would then hang until
/// it exits. Here nothing blocks: waiting polls with Task.sleep. stdin is /dev/null, stdout/stderr go
/// to temporary files. (The tests' own sockets are SOCK_CLOEXEC, so they do not leak into children.)
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let outPath: String
    private let errPath: String
    private var status: Int32?

    init(_ path: String, _ args: [String]) throws {
        outPath = TestPaths.tempSocket("out") + ".txt"
        errPath = TestPaths.tempSocket("err") + ".txt"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        // The test process's environment minus the systemd variables that EnvironmentTests set
        // for a moment: a child spawned meanwhile would otherwise notify those tests' listeners.
        let env: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment
            .filter { !["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"].contains($0.key) }
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in env { free(p) } }
        let r = posix_spawn(&child, path, &actions, nil, argv, env)
        guard r == 0 else { throw TestError.io("posix_spawn \(path): \(r)") }
        pid = child
    }

    /// Waits for exit; returns the exit status, or 128 + signal. Kills the child at the timeout.
    func wait(timeout: Double = 30) async throws -> Int32 {
        if let status { return status }
        let deadline = TestTimeScale.deadline(timeout)
        while true {
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid {
                let signal = raw & 0x7F
                let s = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
                status = s
                return s
            }
            if r < 0 { throw TestError.io("waitpid: errno \(errno)") }
            if Date() > deadline {
                kill(pid, SIGKILL)
                throw TestError.timeout("child \(pid) did not exit in \(timeout) s")
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    /// Kills the child if it still runs and reaps it (for cleanup paths).
    func killAndReap() {
        guard status == nil else { return }
        kill(pid, SIGKILL)
        var raw: Int32 = 0
        _ = waitpid(pid, &raw, 0)
        status = -1
        removeOutputFiles()
    }

    func removeOutputFiles() {
        unlink(outPath)
        unlink(errPath)
    }

    /// stdout and stderr so far.
    var output: (String, String) {
        let o = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (o, e)
    }
}

/// Runs a process to completion; returns (status, stdout, stderr).
private func run(_ path: String, _ args: [String], timeout: Double = 30) async throws -> (Int32, String, String) {
    let child = try ChildProcess(path, args)
    defer { child.removeOutputFiles() }
    let status = try await child.wait(timeout: timeout)
    let (out, err) = child.output
    return (status, out, err)
}

/// A bound AF_UNIX datagram socket collecting notify messages on a background thread.
private final class FakeNotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var stopped = false

    init() throws {
        path = TestPaths.tempSocket("n")
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else { throw TestError.io("bind notify socket: errno \(errno)") }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let t = Thread { [self] in self.loop() }
        t.start()
    }

    private func loop() {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            lock.lock()
            let stop = stopped
            lock.unlock()
            if stop { break }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                lock.lock()
                received.append(String(decoding: buf[..<n], as: UTF8.self))
                lock.unlock()
            }
        }
        Glibc.close(fd)
        unlink(path)
    }

    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    /// Waits until `predicate` holds for the messages so far (or the timeout passes).
    func wait(timeout: Double, _ predicate: ([String]) -> Bool) async throws -> Bool {
        let deadline = TestTimeScale.deadline(timeout)
        while Date() < deadline {
            if predicate(messages) { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return predicate(messages)
    }
}

@Suite struct EndToEndBinaryTests {
    let binary = TestPaths.gpt2dBinary

    @Test func helpAndVersionExitZero() async throws {
        let (vs, vout, _) = try await run(binary, ["--version"])
        #expect(vs == 0)
        #expect(vout.trimmingCharacters(in: .whitespacesAndNewlines) == "gpt2d 0.1.0 (protocol v1)")
        let (hs, hout, _) = try await run(binary, ["--help"])
        #expect(hs == 0)
        #expect(hout.contains("--socket"))
        #expect(hout.contains("--model"))
        #expect(hout.contains("EXIT STATUS"))
    }

    @Test func exitCodesForUsageConfigAndModelErrors() async throws {
        let (badOption, _, _) = try await run(binary, ["--no-such-option"])
        #expect(badOption == 1)
        let (noConfig, _, err1) = try await run(binary, ["--config", "/nonexistent/gpt2d.conf", "--model", "a=/x"])
        #expect(noConfig == 1)
        #expect(err1.contains("/nonexistent/gpt2d.conf"))
        let (noModel, _, _) = try await run(binary, ["--socket", TestPaths.tempSocket(), "--model", "a=/nonexistent/model",
                                                     "--config", TestPaths.repoRoot + "/systemd/gpt2d.conf.example"])
        #expect(noModel == 2)
        let (noSocket, _, _) = try await run(binary, ["--socket", "/nonexistent-dir/gpt2d.sock", "--model", "tiny=\(TestPaths.tinyModel)",
                                                      "--threads", "1"])
        #expect(noSocket == 3)
    }

    @Test func socketActivationNotifyWatchdogAndCleanStop() async throws {
        let activate = "/usr/bin/systemd-socket-activate"
        guard FileManager.default.isExecutableFile(atPath: activate) else {
            Issue.record("systemd-socket-activate not installed")
            return
        }
        let notify = try FakeNotifySocket()
        defer { notify.stop() }
        let sock = TestPaths.tempSocket("a")
        defer { unlink(sock) }
        // systemd-socket-activate gives the daemon a fresh environment: pass what it needs with -E.
        let p = try ChildProcess(activate, [
            "-l", sock, "-E", "NOTIFY_SOCKET=\(notify.path)", "-E", "WATCHDOG_USEC=200000",
            binary, "--model", "tiny=\(TestPaths.tinyModel)", "--threads", "1", "--log-level", "warning",
        ])
        defer { p.killAndReap() }

        // Wait for the listening socket, then connect: that makes systemd-socket-activate exec gpt2d.
        for _ in 0..<250 where !FileManager.default.fileExists(atPath: sock) {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let c = try await TestClient.connect(sock)
        let health = try await c.call("health", id: 1)
        #expect(health.string("status") == "ok")
        let tokens = try await c.call("tokenize", id: 2, ["model": "tiny", "text": "Hello world"])
        #expect(tokens.ints("tokens") == [15496, 995])

        #expect(try await notify.wait(timeout: 10) { $0.contains("READY=1") })
        #expect(notify.messages.contains { $0.hasPrefix("STATUS=serving tiny") })
        // 200 ms watchdog → a ping every ≤ 100 ms: several within half a second.
        let pingsBefore = notify.messages.filter { $0 == "WATCHDOG=1" }.count
        try await Task.sleep(nanoseconds: 500_000_000)
        let pings = notify.messages.filter { $0 == "WATCHDOG=1" }.count - pingsBefore
        #expect(pings >= 3, "only \(pings) WATCHDOG=1 in 500 ms")

        // SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again; the daemon keeps serving.
        kill(p.pid, SIGHUP)
        #expect(try await notify.wait(timeout: 5) { msgs in
            guard let i = msgs.firstIndex(where: { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") }) else { return false }
            return msgs[(i + 1)...].contains("READY=1")
        })
        #expect(try await c.call("health", id: 3).string("status") == "ok")

        c.close()
        kill(p.pid, SIGTERM)
        #expect(try await p.wait() == 0)
        #expect(try await notify.wait(timeout: 2) { $0.contains("STOPPING=1") })
        // An activated socket belongs to the service manager too: gpt2d must not unlink it.
        #expect(FileManager.default.fileExists(atPath: sock))
    }
}
