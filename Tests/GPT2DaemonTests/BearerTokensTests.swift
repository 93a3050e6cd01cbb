// BearerTokensTests — the token file of the HTTP listener's TCP socket (BearerTokens.swift): its
// syntax, its permission checks, the constant-time comparison's answers, re-reading a changed file
// (and failing closed when it breaks), and the `http_tcp` address setting (loopback only).
import Foundation
import Logging
import Testing
@testable import GPT2Daemon

private let tokenA = String(repeating: "a1", count: 20)   // 40 characters
private let tokenB = String(repeating: "b2", count: 16)     // 32 characters

/// A token file with `text` and `mode` in a fresh temporary directory.
private func tokenFile(_ text: String, mode: mode_t = 0o600) throws -> String {
    let dir = NSTemporaryDirectory() + "gpt2d-tokens-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/tokens"
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    chmod(path, mode)
    return path
}

@Suite struct BearerTokensTests {
    @Test func parsesPrincipalsAndTokensSkippingCommentsAndBlankLines() throws {
        let f = try BearerTokenFile.parse("# who  token\n\nalice \(tokenA)\n  bob\t\(tokenB)  \nalice \(tokenB)x\n")
        #expect(f.entries.map(\.principal) == ["alice", "bob", "alice"])
        #expect(f.principal(presenting: Array(tokenA.utf8)) == "alice")
        #expect(f.principal(presenting: Array(tokenB.utf8)) == "bob")
        #expect(f.principal(presenting: Array((tokenB + "x").utf8)) == "alice")
        #expect(f.principal(presenting: Array(tokenA.dropLast().utf8)) == nil)
        #expect(f.principal(presenting: []) == nil)
    }

    @Test func refusesMalformedLinesNamingTheLineNotTheToken() {
        let cases: [(String, String)] = [
            ("alice\n", "line 1: expected PRINCIPAL TOKEN"),
            ("# c\nalice \(tokenA) extra\n", "line 2: expected PRINCIPAL TOKEN"),
            ("al!ce \(tokenA)\n", "line 1: a principal is"),
            ("alice short-token\n", "line 1: a token is 32 to 512"),
            ("alice \(tokenA)\nbob \(tokenA)\n", "line 2: this token already appears"),
        ]
        for (text, message) in cases {
            #expect {
                try BearerTokenFile.parse(text)
            } throws: { error in
                let m = (error as? BearerTokenFile.Invalid)?.message ?? ""
                return m.hasPrefix(message) && !m.contains(tokenA)
            }
        }
    }

    @Test func refusesFilesOthersCanReadOrWrite() throws {
        #expect(try BearerTokenFile.read(try tokenFile("alice \(tokenA)\n", mode: 0o600)).entries.count == 1)
        #expect(try BearerTokenFile.read(try tokenFile("alice \(tokenA)\n", mode: 0o640)).entries.count == 1)
        for mode: mode_t in [0o644, 0o620, 0o602, 0o666] {
            #expect(throws: BearerTokenFile.Invalid.self) { try BearerTokenFile.read(try tokenFile("alice \(tokenA)\n", mode: mode)) }
        }
        #expect(throws: BearerTokenFile.Invalid.self) { try BearerTokenFile.read("/nonexistent/gpt2d-tokens") }
    }

    @Test func constantTimeEqualityIsEquality() {
        let samples: [[UInt8]] = [[], [1], [1, 2], [1, 3], [2, 2], Array(tokenA.utf8), Array(tokenB.utf8), Array(tokenA.utf8) + [0]]
        for a in samples { for b in samples { #expect(BearerTokenFile.constantTimeEquals(a, b) == (a == b)) } }
    }

    @Test func authorizationHeaderNeedsTheBearerScheme() throws {
        let t = try BearerTokens(path: try tokenFile("alice \(tokenA)\n"), logger: Logger(label: "test"))
        #expect(t.principal(authorization: "Bearer \(tokenA)") == "alice")
        #expect(t.principal(authorization: "bearer  \(tokenA) ") == "alice")
        #expect(t.principal(authorization: "Basic \(tokenA)") == nil)
        #expect(t.principal(authorization: tokenA) == nil)
        #expect(t.principal(authorization: nil) == nil)
    }

    @Test func aChangedFileIsReadAgainAndABrokenOneAcceptsNoToken() throws {
        let clock = ManualClock()
        let path = try tokenFile("alice \(tokenA)\n")
        let t = try BearerTokens(path: path, logger: Logger(label: "test"), now: { clock.now })
        #expect(t.principal(authorization: "Bearer \(tokenA)") == "alice")

        // Rotated by rename (a new inode): within the second the old file still answers, then the new one.
        let next = try tokenFile("bob \(tokenB)\n")
        #expect(rename(next, path) == 0)
        #expect(t.principal(authorization: "Bearer \(tokenA)") == "alice")
        clock.advance(seconds: 1.5)
        #expect(t.principal(authorization: "Bearer \(tokenA)") == nil)
        #expect(t.principal(authorization: "Bearer \(tokenB)") == "bob")

        // A file made readable by others (or malformed) fails closed: no token at all.
        chmod(path, 0o644)
        let broken = try tokenFile("bob \(tokenB)\n", mode: 0o644)
        #expect(rename(broken, path) == 0)
        clock.advance(seconds: 1.5)
        #expect(t.principal(authorization: "Bearer \(tokenB)") == nil)
    }

    @Test func theTCPAddressMustBeLoopback() throws {
        #expect(try LoopbackAddress.parse("127.0.0.1:8000").get() == LoopbackAddress(host: "127.0.0.1", port: 8000))
        #expect(try LoopbackAddress.parse("127.1.2.3:1").get() == LoopbackAddress(host: "127.1.2.3", port: 1))
        #expect(try LoopbackAddress.parse("[::1]:65535").get() == LoopbackAddress(host: "::1", port: 65535))
        #expect(try LoopbackAddress.parse("localhost:0").get() == LoopbackAddress(host: "127.0.0.1", port: 0))
        #expect(LoopbackAddress(host: "::1", port: 9).description == "[::1]:9")
        for bad in ["0.0.0.0:80", "10.0.0.1:80", "example.com:80", "127.0.0.1", "127.0.0.1:65536", "[::2]:80", "[::1]80", "::1:80", ":80"] {
            #expect(throws: SettingValueError.self, "\(bad)") { try LoopbackAddress.parse(bad).get() }
        }
    }

    @Test func httpTCPWithoutATokenFileIsAConfigError() throws {
        var c = DaemonConfig()
        c.httpTCP = LoopbackAddress(host: "127.0.0.1", port: 0)
        #expect(throws: ConfigError.self) { try c.validate() }
        c.httpTokensFile = "/etc/gpt2d/tokens"
        try c.validate()
    }
}

/// A monotonic clock the test moves by hand (nanoseconds).
private final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 1_000_000_000
    var now: UInt64 { lock.lock(); defer { lock.unlock() }; return value }
    func advance(seconds: Double) { lock.lock(); value += UInt64(seconds * 1e9); lock.unlock() }
}
