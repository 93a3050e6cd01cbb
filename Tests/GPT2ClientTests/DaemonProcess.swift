// DaemonProcess — the built `gpt2d` binary running on a temporary socket with the tiny-gpt2 fixture,
// plus helpers to run the built `gpt2ctl` and to read the fixture's goldens.
//
// The daemon is a child process (not in-process) so these tests exercise exactly what users run, and a
// client bug cannot deadlock the server inside the same process. `swift build` must have built
// `gpt2d` and `gpt2ctl` first (scripts/test.sh does); GPT2D_BIN / GPT2CTL_BIN override the paths.

import Foundation
import GPT2Client
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

enum Paths {
    static let repoRoot = Fixtures.root
    static let tinyModel = Fixtures.model("tiny-gpt2")

    /// A built executable: $<env>, else beside the test bundle in .build/<config>/, else .build/debug.
    static func binary(_ name: String, env: String) -> String {
        if let p = ProcessInfo.processInfo.environment[env], !p.isEmpty { return p }
        var candidates: [String] = []
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(argv0.path + "/" + name)
        candidates.append(argv0.deletingLastPathComponent().path + "/" + name)
        candidates.append(URL(fileURLWithPath: Bundle.main.bundlePath).path + "/" + name)
        candidates.append(repoRoot + "/.build/debug/" + name)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    static var gpt2d: String { binary("gpt2d", env: "GPT2D_BIN") }
    static var gpt2ctl: String { binary("gpt2ctl", env: "GPT2CTL_BIN") }

    /// A short unique socket path (sun_path holds 107 bytes).
    static func tempSocket() -> String {
        "/tmp/gpt2c-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// A `gpt2d` child process serving tiny-gpt2 as model "tiny".
final class DaemonProcess: @unchecked Sendable {
    static let model = "tiny"

    let socketPath: String
    let process: Process
    let logPath: String

    private init(socketPath: String, process: Process, logPath: String) {
        self.socketPath = socketPath
        self.process = process
        self.logPath = logPath
    }

    /// Starts gpt2d and waits until it answers `health` (at most `timeout` seconds).
    /// `environment` adds to (or, with nil values, removes from) the inherited environment.
    static func start(extraArguments: [String] = [], threads: Int = 1, environment: [String: String?] = [:],
                      timeout: Double = 60) async throws -> DaemonProcess {
        let socket = Paths.tempSocket()
        let logPath = socket + ".log"
        precondition(FileManager.default.createFile(atPath: logPath, contents: nil), "cannot create \(logPath)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.gpt2d)
        p.arguments = ["--socket", socket, "--model", "\(model)=\(Paths.tinyModel)", "--threads", String(threads),
                       "--log-level", "warning"] + extraArguments
        let log = FileHandle(forWritingAtPath: logPath)
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        // Not the systemd variables another suite may have set for a moment (see EnvironmentTests).
        var env = ProcessInfo.processInfo.environment.filter {
            !["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"].contains($0.key)
        }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        try p.run()
        let d = DaemonProcess(socketPath: socket, process: p, logPath: logPath)
        let deadline = TestTimeScale.deadline(timeout)
        while Date() < deadline {
            guard p.isRunning else { throw HarnessError(description: "gpt2d exited (\(p.terminationStatus)): \(d.log)") }
            let probe = GPT2Client(socketPath: socket, timeout: .seconds(TestTimeScale.seconds(5)))
            if (try? await probe.health()) != nil {
                await probe.close()
                return d
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        d.kill()
        throw HarnessError(description: "gpt2d did not answer health within \(timeout) s: \(d.log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM and wait for exit (SIGKILL after 10 s).
    func stop() async {
        guard process.isRunning else { return cleanup() }
        process.terminate()
        let p = process
        _ = try? await onThread {
            let deadline = TestTimeScale.deadline(10)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        cleanup()
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        cleanup()
    }

    private func cleanup() {
        try? FileManager.default.removeItem(atPath: socketPath)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    func client(timeout: Duration? = .seconds(TestTimeScale.seconds(60))) -> GPT2Client {
        GPT2Client(socketPath: socketPath, timeout: timeout)
    }
}

/// Runs `body` with a fresh daemon, stopping it afterwards (also when `body` throws).
func withDaemon<T>(extraArguments: [String] = [], threads: Int = 1, environment: [String: String?] = [:],
                   _ body: (DaemonProcess) async throws -> T) async throws -> T {
    let d = try await DaemonProcess.start(extraArguments: extraArguments, threads: threads, environment: environment)
    do {
        let r = try await body(d)
        await d.stop()
        return r
    } catch {
        await d.stop()
        throw error
    }
}


// MARK: Goldens

/// The I64 tensors of a safetensors file (8-byte little-endian header length, JSON header, data).
func readInt64Tensors(_ path: String) throws -> [String: [Int]] {
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var n = 0
    for i in 0..<8 { n |= Int(data[i]) << (8 * i) }
    let header = try JSONSerialization.jsonObject(with: Data(data[8..<(8 + n)])) as? [String: Any] ?? [:]
    var out: [String: [Int]] = [:]
    for (name, value) in header {
        guard let info = value as? [String: Any], info["dtype"] as? String == "I64",
              let range = info["data_offsets"] as? [Int] else { continue }
        let start = 8 + n + range[0], end = 8 + n + range[1]
        var values: [Int] = []
        var i = start
        while i < end {
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(data[i + b]) << (8 * UInt64(b)) }
            values.append(Int(Int64(bitPattern: v)))
            i += 8
        }
        out[name] = values
    }
    return out
}

// MARK: gpt2ctl

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built gpt2ctl with `arguments` (and `stdin` as its standard input).
func runCtl(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws -> CommandResult {
    try await onThread {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.gpt2ctl)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["GPT2D_SOCKET"] = nil
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        // Drain stderr on another thread so neither pipe can fill up and block the child.
        let errBox = DataBox()
        Thread { errBox.set(err.fileHandleForReading.readDataToEndOfFile()) }.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let e = errBox.wait()
        return CommandResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                             stderr: String(decoding: e, as: UTF8.self))
    }
}

private final class DataBox: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()
    func set(_ d: Data) {
        data = d
        done.signal()
    }
    func wait() -> Data {
        done.wait()
        return data
    }
}
