// ReplyMemoryBinaryTests — the real gpt2d with small reply budgets (max_connection_reply_mib 1,
// max_reply_mib 1): clients that send big `tokenize` requests and never read make the daemon stop
// reading them (their sends stall with requests unsent), its peak RSS stays within a bound of the
// budgets, another client is still served, and once the clients read, every request is answered.

import Foundation
import GPT2JSON
import GPT2Wire
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client socket whose sends never block: `push` writes what the kernel accepts now.
private final class NonBlockingSender {
    let fd: Int32
    private(set) var sent = 0
    let payload: [UInt8]

    init(path: String, payload: [UInt8]) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.fd = fd
        self.payload = payload
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else { throw TestError.io("connect: errno \(errno)") }
        // A small send buffer: what the kernel holds for a stalled client is then a few KiB, so the
        // bytes the daemon accepted are what it read.
        var sndbuf: Int32 = 8192
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    var done: Bool { sent == payload.count }

    /// Sends until the kernel refuses more; returns the bytes sent now.
    func push() -> Int {
        var now = 0
        while sent < payload.count {
            let n = payload[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n; now += n
        }
        return now
    }

    /// Reads (blocking, with a deadline) until `count` result lines arrived; returns their ids.
    func readFinals(_ count: Int, timeout: Double) throws -> [String] {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // Lines are a megabyte each: look only at their start (`{"id":"…","type":"result"`) and
        // scan each received byte once for the newline.
        var head: [UInt8] = [], inLine = 0, ids: [String] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while ids.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw TestError.io("recv ended after \(ids.count) answers (errno \(errno))") }
            for b in chunk[..<n] {
                if b == 0x0A {
                    let text = String(decoding: head, as: UTF8.self)
                    guard text.hasPrefix(#"{"id":""#), let end = text.dropFirst(7).firstIndex(of: "\""),
                          text[end...].hasPrefix(#"","type":"result""#) else {
                        throw TestError.protocolViolation("not a result line: \(text)")
                    }
                    ids.append(String(text[text.index(text.startIndex, offsetBy: 7)..<end]))
                    head = []; inLine = 0
                } else {
                    if inLine < 64 { head.append(b) }
                    inLine += 1
                }
            }
        }
        return ids
    }
}

/// Hands a sender to the threads that drain it (a pusher sends the rest, a reader reads the answers).
private final class SenderBox: @unchecked Sendable {
    let sender: NonBlockingSender
    init(_ s: NonBlockingSender) { sender = s }
}


/// VmHWM (peak resident set) of `pid`, bytes.
private func peakRSS(_ pid: pid_t) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
}

@Suite struct ReplyMemoryBinaryTests {
    @Test func clientsThatNeverReadCannotRaiseTheDaemonsMemoryPastTheBound() async throws {
        let sock = TestPaths.tempSocket("rm")
        defer { unlink(sock) }
        let p = try ChildProcess(TestPaths.gpt2dBinary, [
            "--model", "tiny=\(TestPaths.tinyModel)", "--socket", sock, "--threads", "1", "--log-level", "warning",
            "--max-connection-reply-mib", "1", "--max-reply-mib", "1", "--connection-idle-timeout-s", "0",
        ])
        defer { p.killAndReap() }
        let deadline = TestTimeScale.deadline(30)
        while !FileManager.default.fileExists(atPath: sock) && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        let probe = try await TestClient.connect(sock)
        // One word that is one token, 15 bytes: 256 KiB of text is 17,476 tokens, a 350 KB answer.
        let text = String(repeating: " responsibility", count: (256 << 10) / 15)
        // Warm up (tokenizer, encoder) so the baseline holds what any tokenize needs.
        _ = try await probe.call("tokenize", ["model": "tiny", "text": .string(text)])
        let baseline = peakRSS(p.pid)

        // 2 clients × 7 requests of 256 KiB. The first budget holds 4 requests, the 5th goes over it;
        // the total (1 MiB) then lets the second client send one request only.
        let requests = 7
        let senders = try (0..<2).map { c -> NonBlockingSender in
            var payload: [UInt8] = []
            for i in 0..<requests {
                payload += RequestLine.encode(TokenizeRequest(model: "tiny", text: text), id: .string("c\(c)-\(i)"))
            }
            return try NonBlockingSender(path: sock, payload: payload)
        }
        // Push until no client can send more for 2.5 s: the daemon stopped reading them. (Without the
        // budgets it reads all 1.8 MB of each within a few seconds, even on a loaded machine.)
        var quietSince = Date()
        while Date().timeIntervalSince(quietSince) < 2.5, !senders.allSatisfy(\.done) {
            if senders.reduce(0, { $0 + $1.push() }) > 0 { quietSince = Date() }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        for s in senders { #expect(!s.done, "a client sent all \(s.payload.count) bytes to a daemon that should have stopped reading") }
        try await Task.sleep(nanoseconds: 500_000_000)  // let the requests already read finish
        let grown = peakRSS(p.pid) - baseline
        // The budgets let the daemon read about 1.5 MiB of requests; their answers (ids and offsets
        // as values, their JSON trees while encoded, the lines) take a bounded multiple of that.
        #expect(grown < 64 << 20, "peak RSS grew by \(grown >> 20) MiB")

        // Others are still served, one request after another, while the budgets are full…
        for i in 0..<5 {
            #expect(try await probe.call("health", id: .int(Int64(i))).string("status") == "ok")
            let small = try await probe.call("tokenize", id: .int(Int64(100 + i)), ["model": "tiny", "text": "still served"])
            #expect(small.ints("tokens")?.isEmpty == false)
        }
        // …and once the clients read, every request is answered (each client reads on its own
        // thread while the rest of its requests are sent).
        let boxes = senders.map { SenderBox($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (c, box) in boxes.enumerated() {
                group.addTask {
                    let ids = try await onThread { () throws -> [String] in
                        let s = box.sender
                        let pusher = Thread { while !s.done { _ = s.push(); usleep(1000) } }
                        pusher.start()
                        return try s.readFinals(requests, timeout: 60)
                    }
                    // One final line per request (answers to different requests may come in any order).
                    #expect(ids.sorted() == (0..<requests).map { "c\(c)-\($0)" }.sorted())
                }
            }
            try await group.waitForAll()
        }
        kill(p.pid, SIGTERM)
        #expect(try await p.wait() == 0)
    }
}
