// HTTPTCPTests — the HTTP listener's optional loopback TCP socket (`http_tcp`) in-process: every
// request but GET /health needs a bearer token from the token file (401 with WWW-Authenticate and
// OpenAI's `invalid_api_key` otherwise, before the body is read); a token's principal owns its
// sessions as a Unix user owns theirs (another token, or the Unix socket's user, gets session_forbidden);
// answers equal the Unix socket's for the same request.
import Foundation
import GPT2JSON
import Testing
@testable import GPT2Daemon

private let aliceToken = String(repeating: "a7", count: 24)
private let bobToken = String(repeating: "b9", count: 24)

/// A daemon with the JSON-lines socket, the HTTP Unix socket and HTTP on 127.0.0.1:<free port>.
private actor TCPDaemon {
    static let shared = TCPDaemon()
    private var started: (DaemonHarness, Int)?

    func get() async throws -> (harness: DaemonHarness, port: Int) {
        if let started { return started }
        let dir = NSTemporaryDirectory() + "gpt2d-tcp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tokens = dir + "/tokens"
        try "# test principals\nalice \(aliceToken)\nbob \(bobToken)\n".write(toFile: tokens, atomically: false, encoding: .utf8)
        chmod(tokens, 0o600)
        let config = DaemonHarness.config {
            $0.httpTCP = LoopbackAddress(host: "127.0.0.1", port: 0)
            $0.httpTokensFile = tokens
            $0.adminTokens = ["bob"]
        }
        let tcp = HTTPTCPSettings(address: config.httpTCP!, tokens: try BearerTokens(path: tokens, logger: .init(label: "test")))
        let h = try await DaemonHarness.start(config, httpRequestTimeout: DaemonHarness.httpTestTimeout, tcp: tcp)
        let port = try #require(h.daemon.httpTCPPort)
        started = (h, port)
        return (h, port)
    }
}

/// One request on a new TCP connection, with `token` as its bearer (nil: no Authorization header).
private func tcpCall(_ port: Int, _ method: String, _ path: String, body: String? = nil, token: String?) async throws -> HTTPTestResponse {
    let c = try await HTTPTestClient.connectTCP(port: port)
    defer { c.close() }
    return try await c.call(method, path, body: body, headers: token.map { ["Authorization: Bearer \($0)"] } ?? [])
}

@Suite struct HTTPTCPTests {
    @Test func requestsWithoutAValidTokenGet401() async throws {
        let (_, port) = try await TCPDaemon.shared.get()
        for token in [nil, "", "wrong-token-wrong-token-wrong-token-0000", String(aliceToken.dropLast())] as [String?] {
            let r = try await tcpCall(port, "POST", "/v1/completions", body: #"{"model":"tiny","prompt":"Hi","max_tokens":2}"#, token: token)
            #expect(r.status == 401)
            #expect(r.header("www-authenticate") == "Bearer")
            #expect(try r.error()["code"] == "invalid_api_key")
            #expect(r.header("connection") == "close")
        }
        let models = try await tcpCall(port, "GET", "/v1/models", token: nil)
        #expect(models.status == 401)
        // Another scheme is no bearer token.
        let c = try await HTTPTestClient.connectTCP(port: port)
        defer { c.close() }
        #expect(try await c.call("GET", "/v1/models", headers: ["Authorization: Basic \(aliceToken)"]).status == 401)
    }

    @Test func metricsAreForAdminTokensOnly() async throws {
        let (_, port) = try await TCPDaemon.shared.get()
        let asBob = try await tcpCall(port, "GET", "/metrics", token: bobToken)  // bob is in admin_tokens
        #expect(asBob.status == 200)
        #expect(String(decoding: asBob.body, as: UTF8.self).contains("gpt2d_build_info"))
        let asAlice = try await tcpCall(port, "GET", "/metrics", token: aliceToken)
        #expect(asAlice.status == 403)
        #expect(try asAlice.error()["code"] == "forbidden")
    }

    @Test func healthNeedsNoToken() async throws {
        let (_, port) = try await TCPDaemon.shared.get()
        let r = try await tcpCall(port, "GET", "/health", token: nil)
        #expect(r.status == 200)
        #expect(try r.json()["status"] == "ok")
    }

    @Test func aTokenServesAsOnTheUnixSocketOnOneKeptAliveConnection() async throws {
        let (h, port) = try await TCPDaemon.shared.get()
        let body = #"{"model":"tiny","prompt":"Hello world","max_tokens":8,"temperature":0}"#
        let unix = try await h.call("POST", "/v1/completions", body: body)
        let c = try await HTTPTestClient.connectTCP(port: port)
        defer { c.close() }
        for _ in 0..<2 {
            let r = try await c.call("POST", "/v1/completions", body: body, headers: ["Authorization: Bearer \(aliceToken)"])
            #expect(r.status == 200)
            #expect(try r.json()["choices"]?.arrayValue?.first?["text"] == (try unix.json()["choices"]?.arrayValue?.first?["text"]))
        }
        let models = try await c.call("GET", "/v1/models", headers: ["Authorization: Bearer \(aliceToken)"])
        #expect(models.status == 200)
    }

    @Test func aTokensSessionsAreItsOwn() async throws {
        let (h, port) = try await TCPDaemon.shared.get()
        let opened = try await tcpCall(port, "POST", "/v1/sessions", body: #"{"model":"tiny"}"#, token: aliceToken)
        #expect(opened.status == 200)
        let id = try #require(try opened.json().string("session"))
        #expect(try await tcpCall(port, "GET", "/v1/sessions/\(id)", token: aliceToken).status == 200)
        // Bob's token, and the Unix socket's user (root here), are other principals (PROTOCOL.md §3).
        let asBob = try await tcpCall(port, "GET", "/v1/sessions/\(id)", token: bobToken)
        #expect(asBob.status == 403)
        #expect(try asBob.error()["code"] == "session_forbidden")
        let asRoot = try await h.call("GET", "/v1/sessions/\(id)")
        #expect(asRoot.status == 403)
        #expect(try asRoot.error()["code"] == "session_forbidden")
        let bobs = try await tcpCall(port, "GET", "/v1/sessions", token: bobToken)
        #expect(try bobs.json()["sessions"]?.arrayValue?.contains { $0["session"]?.stringValue == id } == false)
        #expect(try await tcpCall(port, "DELETE", "/v1/sessions/\(id)", token: aliceToken).status == 200)
    }
}
