// Helpers for GPT2SystemdTests: a fake NOTIFY_SOCKET listener, scoped environment changes, temp paths.

@testable import GPT2Systemd
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A bound AF_UNIX/SOCK_DGRAM socket standing in for systemd's notify socket.
final class DatagramListener {
    let fd: Int32
    /// What to put into NOTIFY_SOCKET: a path, or `@name` for the abstract namespace.
    let address: String
    private let path: String?

    /// Binds a socket at a fresh path in /tmp.
    convenience init() throws {
        try self.init(address: TempPath.make("notify") + ".sock")
    }

    /// Binds `address` (a path, or `@name` for an abstract socket).
    init(address: String) throws {
        self.address = address
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        self.fd = fd
        let abstract = address.hasPrefix("@")
        path = abstract ? nil : address
        do {
            try bindUnix(fd: fd, address: address)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// The next datagram, or nil when none arrives within `timeoutMilliseconds`.
    func receive(timeoutMilliseconds: Int32 = 2_000) -> String? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMilliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    /// The next datagram as raw bytes, or nil when none arrives within `timeoutMilliseconds`.
    func receiveBytes(timeoutMilliseconds: Int32 = 2_000) -> [UInt8]? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMilliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n >= 0 else { return nil }
        return Array(buffer[0..<n])
    }

    /// Every datagram that arrives within `milliseconds` from now.
    func receiveAll(forMilliseconds milliseconds: Int) -> [String] {
        var out: [String] = []
        let deadline = monotonicMilliseconds() + milliseconds
        while true {
            let left = deadline - monotonicMilliseconds()
            guard left > 0 else { break }
            if let message = receive(timeoutMilliseconds: Int32(left)) { out.append(message) }
        }
        return out
    }

    /// Discards everything already queued.
    func drain() {
        while receive(timeoutMilliseconds: 0) != nil {}
    }
}

/// Binds `fd` to a Unix socket address: a path, or `@name` for the abstract namespace.
func bindUnix(fd: Int32, address: String) throws {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let abstract = address.hasPrefix("@")
    var nameBytes = Array(address.utf8)
    if abstract { nameBytes[0] = 0 }  // abstract: leading NUL, no terminator
    guard nameBytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
        throw TestFailure("socket name too long: \(address)")
    }
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        raw.copyBytes(from: nameBytes)
    }
    let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + nameBytes.count + (abstract ? 0 : 1)
    let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
    }
    guard r == 0 else { throw TestFailure("bind \(address): errno \(errno)") }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum TempPath {
    /// A fresh, unused path prefix under /tmp (nothing is created).
    static func make(_ tag: String) -> String {
        "/tmp/gpt2d-test-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}

func monotonicMilliseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int(ts.tv_sec) * 1_000 + Int(ts.tv_nsec) / 1_000_000
}

/// Runs `body` with environment variables set (non-nil) or unset (nil), then restores the old values.
/// Not thread-safe: callers live in the `.serialized` `EnvironmentTests` suite.
func withEnvironment<T>(_ changes: [String: String?], _ body: () throws -> T) rethrows -> T {
    var saved: [String: String?] = [:]
    for (name, value) in changes {
        saved[name] = .some(getenv(name).map { String(cString: $0) })
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }
    defer {
        for (name, value) in saved {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
    }
    return try body()
}

/// A `ServiceNotifier` that records messages instead of sending them.
final class RecordingNotifier: ServiceNotifier, @unchecked Sendable {
    private let lock = PlatformLock()
    private var recorded: [String] = []

    var isActive: Bool { true }

    @discardableResult
    func send(_ state: String) -> Bool {
        lock.withLock { recorded.append(state) }
        return true
    }

    var messages: [String] { lock.withLock { recorded } }
}

/// Every test that reads or changes process-global state (environment variables, fd 3) is nested in
/// this suite so that they run one at a time.
@Suite(.serialized) struct EnvironmentTests {}

/// Async variant of `withEnvironment(_:_:)`.
func withEnvironment<T>(_ changes: [String: String?], _ body: () async throws -> T) async rethrows -> T {
    var saved: [String: String?] = [:]
    for (name, value) in changes {
        saved[name] = .some(getenv(name).map { String(cString: $0) })
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }
    defer {
        for (name, value) in saved {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
    }
    return try await body()
}
