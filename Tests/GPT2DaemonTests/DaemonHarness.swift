// DaemonHarness — an in-process gpt2d on a temporary socket with the tiny-gpt2 fixture, and a tiny
// blocking Unix-socket client.
//
// The client's blocking calls run on their own threads (`onThread`), never on Swift concurrency's
// cooperative pool: the daemon's connection tasks run on that pool, and on a 2-core machine two blocked
// test threads would starve the very server they wait for.

import Foundation
import NIOCore
import GPT2Core
@testable import GPT2Daemon
import GPT2JSON
import GPT2Systemd
import GPT2TestSupport
import GPT2Wire
import Testing
#if canImport(Glibc)
import Glibc
#endif

enum TestError: Error, CustomStringConvertible {
    case io(String)
    case timeout(String)
    case protocolViolation(String)
    var description: String {
        switch self {
        case .io(let s), .timeout(let s), .protocolViolation(let s): return s
        }
    }
}

/// Fixture locations.
enum TestPaths {
    static let tinyModel = Fixtures.model("tiny-gpt2")
    static let golden = tinyModel + "/golden.safetensors"
    static let repoRoot = Fixtures.root

    /// A short unique socket path (sun_path holds 107 bytes).
    static func tempSocket(_ tag: String = "d") -> String {
        "/tmp/gpt2d-test-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    /// The built `gpt2d` executable: next to the test bundle in .build/<config>/.
    static var gpt2dBinary: String {
        var candidates: [String] = []
        let bundleDir = URL(fileURLWithPath: Bundle.main.bundlePath).path
        candidates.append(bundleDir + "/gpt2d")
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(argv0.path + "/gpt2d")
        candidates.append(argv0.deletingLastPathComponent().path + "/gpt2d")
        candidates.append(repoRoot + "/.build/debug/gpt2d")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }
}

/// A daemon running inside the test process: its JSON-lines socket and, when asked for, its HTTP one.
final class DaemonHarness: @unchecked Sendable {
    let daemon: Daemon
    let socketPath: String
    /// The HTTP listener's socket (`start(..., httpRequestTimeout:)`); nil: none.
    let httpPath: String?

    private init(daemon: Daemon, socketPath: String, httpPath: String?) {
        self.daemon = daemon
        self.socketPath = socketPath
        self.httpPath = httpPath
    }

    /// The default test configuration: the tiny model as "tiny", TestThreads.count compute threads.
    static func config(_ tweak: (inout DaemonConfig) -> Void = { _ in }) -> DaemonConfig {
        var c = DaemonConfig()
        c.models = [ModelSpec(name: "tiny", directory: TestPaths.tinyModel)]
        c.threads = TestThreads.count  // one pool size for the whole run (GPT2TestSupport/TestThreads.swift)
        // The whole suite runs its tests at once on two cores: a session opened early may wait longer
        // than the default 600 s idle time-out before its test uses it. Expiry has its own tests.
        c.sessionIdleTimeoutSeconds = 86400
        c.kvCacheMiB = 64
        c.logLevel = .warning
        c.drainTimeoutSeconds = 5
        // Every test client is the same Unix user (root): its share of the sessions is the whole
        // table, so suites that open many sessions test what they are about (UserLimitsTests and
        // StatsScopeTests cover the per-user limits).
        c.maxSessionsPerUser = c.maxSessions
        tweak(&c)
        return c
    }

    /// Starts a daemon on a temporary socket; with `httpRequestTimeout`, also the HTTP listener on
    /// its own temporary socket with that request timeout.
    static func start(
        _ config: DaemonConfig = DaemonHarness.config(),
        notifier: any ServiceNotifier = NoopNotifier(),
        credentialsFilter: @escaping @Sendable (PeerCredentials) -> PeerCredentials = { $0 },
        httpRequestTimeout: TimeAmount? = nil,
        tcp: HTTPTCPSettings? = nil
    ) async throws -> DaemonHarness {
        DaemonLogging.bootstrap(level: config.logLevel)
        let path = TestPaths.tempSocket()
        let http = httpRequestTimeout.map { _ in TestPaths.tempSocket("h") }
        // Loading blocks for a while: keep it off the cooperative pool the other tests run on.
        let daemon = try await onThread { try Daemon(config: config, notifier: notifier, credentialsFilter: credentialsFilter) }
        if let httpRequestTimeout, let http {
            try await daemon.start(listen: .path(path), http: .path(http), signals: nil, httpRequestTimeout: httpRequestTimeout, tcp: tcp)
        } else {
            try await daemon.start(listen: .path(path))
        }
        return DaemonHarness(daemon: daemon, socketPath: path, httpPath: http)
    }

    func connect() async throws -> TestClient { try await TestClient.connect(socketPath) }

    func stop() async { await daemon.shutdown() }

    /// The one daemon most tests share (started on first use, never stopped: the process ends).
    static func shared() async throws -> DaemonHarness { try await SharedDaemon.plain.get() }
}

/// A daemon started once, on first use, for every test that asks.
actor SharedDaemon {
    static let plain = SharedDaemon { try await DaemonHarness.start() }
    private let make: @Sendable () async throws -> DaemonHarness
    private var harness: DaemonHarness?
    init(_ make: @escaping @Sendable () async throws -> DaemonHarness) { self.make = make }
    func get() async throws -> DaemonHarness {
        if let harness { return harness }
        let h = try await make()
        harness = h
        return h
    }
}

/// A blocking JSON-lines client over a Unix socket (reads time out after `timeout` seconds).
final class TestClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []
    private let lock = NSLock()
    private var closed = false

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    static func connect(_ path: String, timeout: Double = 20) async throws -> TestClient {
        try await onThread { try connectBlocking(path, timeout: timeout) }
    }

    static func connectBlocking(_ path: String, timeout: Double = 20) throws -> TestClient {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestError.io("socket: errno \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            let e = errno
            Glibc.close(fd)
            throw TestError.io("connect \(path): errno \(e)")
        }
        setReadTimeout(fd, timeout)
        return TestClient(fd: fd)
    }

    /// A client of a loopback TCP port (the HTTP listener's `http_tcp` socket).
    static func connectTCPBlocking(port: Int, timeout: Double = 20) throws -> TestClient {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestError.io("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else {
            let e = errno
            Glibc.close(fd)
            throw TestError.io("connect 127.0.0.1:\(port): errno \(e)")
        }
        setReadTimeout(fd, timeout)
        return TestClient(fd: fd)
    }

    /// SO_RCVTIMEO of `timeout` seconds, stretched by TestTimeScale (a read past it throws .timeout).
    private static func setReadTimeout(_ fd: Int32, _ timeout: Double) {
        let t = TestTimeScale.seconds(timeout)
        var tv = timeval(tv_sec: Int(t), tv_usec: Int((t - Double(Int(t))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }

    /// Shuts down the write side (the daemon still answers what it got).
    func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    // MARK: blocking primitives

    func sendBlocking(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TestError.io("send: errno \(errno)")
            }
            offset += n
        }
    }

    /// The next line (without "\n"); nil at EOF.
    func readLineBlocking() throws -> [UInt8]? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return nil }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw TestError.timeout("read timed out") }
                throw TestError.io("recv: errno \(errno)")
            }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    func readResponseBlocking() throws -> IncomingResponse {
        guard let line = try readLineBlocking() else { throw TestError.io("EOF while waiting for a response") }
        do { return try IncomingResponse.parse(line) } catch {
            throw TestError.protocolViolation("bad response line \(String(decoding: line, as: UTF8.self)): \(error)")
        }
    }

    // MARK: async API

    func send(_ line: String) async throws {
        let bytes = Array((line + "\n").utf8)
        try await onThread { try self.sendBlocking(bytes) }
    }

    func sendRaw(_ bytes: [UInt8]) async throws { try await onThread { try self.sendBlocking(bytes) } }

    func readResponse() async throws -> IncomingResponse { try await onThread { try self.readResponseBlocking() } }

    /// Reads lines until the final line (result or error) of `id`; returns that request's lines in order.
    /// Lines of other requests are kept for later calls.
    func readUntilFinal(id: RequestID?) async throws -> [IncomingResponse] {
        try await onThread { try self.readUntilFinalBlocking(id: id) }
    }

    private var stash: [IncomingResponse] = []

    func readUntilFinalBlocking(id: RequestID?) throws -> [IncomingResponse] {
        var mine: [IncomingResponse] = []
        var others: [IncomingResponse] = []
        var pending = stash
        stash = []
        while true {
            let r: IncomingResponse
            if !pending.isEmpty { r = pending.removeFirst() } else { r = try readResponseBlocking() }
            if r.id == id {
                mine.append(r)
                if case .token = r.kind { continue }
                stash = others + pending
                return mine
            }
            others.append(r)
        }
    }

    /// Sends one request line and returns its final line (plus any token lines before it).
    func request(_ line: String, id: RequestID?) async throws -> [IncomingResponse] {
        try await send(line)
        return try await readUntilFinal(id: id)
    }

    /// Sends `{"id":…,"op":…,…}` built from a JSON object and returns the final result body, or throws
    /// the error it got.
    func call(_ op: String, id: RequestID = "t", _ fields: JSONObject = [:]) async throws -> JSONObject {
        var o: JSONObject = ["id": id.json, "op": .string(op)]
        for (k, v) in fields { o[k] = v }
        let lines = try await request(JSON.object(o).serialized(), id: id)
        switch lines.last!.kind {
        case .result(let body): return body
        case .error(let e): throw e
        case .token: throw TestError.protocolViolation("ended with a token line")
        }
    }

    /// Like `call` but expects an error and returns it.
    func callError(_ op: String, id: RequestID = "t", _ fields: JSONObject = [:]) async throws -> WireError {
        do {
            let body = try await call(op, id: id, fields)
            throw TestError.protocolViolation("expected an error, got result \(JSON.object(body).serialized())")
        } catch let e as WireError {
            return e
        }
    }
}

/// Records notify messages (for in-process lifecycle checks).
final class RecordingNotifier: ServiceNotifier, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [String] = []
    var isActive: Bool { true }
    func send(_ state: String) -> Bool {
        lock.lock()
        sent.append(state)
        lock.unlock()
        return true
    }
    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return sent
    }
}

/// Reads the golden tensors of the tiny fixture.
enum Golden {
    static func ints(_ name: String) throws -> [Int] {
        try SafeTensorsFile.open(path: TestPaths.golden).int64s(name).map { Int($0) }
    }
    static func floats(_ name: String) throws -> [Float] {
        try SafeTensorsFile.open(path: TestPaths.golden).floats(name)
    }
}

extension JSONObject {
    func ints(_ key: String) -> [Int]? { self[key]?.arrayValue?.compactMap { $0.intValue.map(Int.init) } }
    func string(_ key: String) -> String? { self[key]?.stringValue }
    func int(_ key: String) -> Int? { self[key]?.intValue.map(Int.init) }
}

extension Array where Element == Int {
    var jsonArray: JSON { .array(map { .int(Int64($0)) }) }
}
