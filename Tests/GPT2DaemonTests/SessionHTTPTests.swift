// The HTTP listener's session endpoints with names and forks (issue #15 point 2): POST /v1/sessions
// takes `name` (open or create), POST /v1/sessions/{id}/fork is session.fork, its metrics label is a
// fixed pattern, other methods on it are 405, and quota_exceeded is a 429 like overloaded.
import Foundation
import GPT2JSON
import GPT2Wire
import Testing
@testable import GPT2Daemon

@Suite struct SessionHTTPTests {
    @Test func namesAndForksOverHTTP() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let name = "http-\(UInt32.random(in: 0...UInt32.max))"
        let opened = try await d.call("POST", "/v1/sessions", body: #"{"model":"tiny","name":"\#(name)"}"#)
        #expect(opened.status == 200)
        let id = try #require(try opened.json().string("session"))
        #expect(try opened.json()["created"] == true)
        let again = try await d.call("POST", "/v1/sessions", body: #"{"model":"tiny","name":"\#(name)"}"#)
        let againBody = try again.json()
        #expect(againBody.string("session") == id && againBody["created"] == false)

        let fork = try await d.call("POST", "/v1/sessions/\(id)/fork", body: #"{"name":"\#(name)-fork"}"#)
        #expect(fork.status == 200)
        let forkBody = try fork.json()
        let forkID = try #require(forkBody.string("session"))
        #expect(forkID != id && forkBody.string("name") == name + "-fork" && forkBody["created"] == true)
        let clash = try await d.call("POST", "/v1/sessions/\(id)/fork", body: #"{"name":"\#(name)"}"#)
        let clashError = try clash.error()
        #expect(clash.status == 400 && clashError["code"] == "invalid_field")
        #expect(try await d.call("POST", "/v1/sessions/s-nothing/fork").status == 404)
        #expect(try await d.call("GET", "/v1/sessions/\(id)/fork").status == 405)
        for s in [id, forkID] { #expect(try await d.call("DELETE", "/v1/sessions/\(s)").status == 200) }
    }

    @Test func forkPathsHaveTheirOwnLabelAndQuotaIsA429() {
        #expect(HTTPRoutes.endpoint("/v1/sessions/s-123/fork") == "/v1/sessions/{id}/fork")
        #expect(HTTPRoutes.endpoint("/v1/sessions/s-123") == "/v1/sessions/{id}")
        #expect(OpsEndpoint.forkSource("/v1/sessions/s-1/fork") == "s-1")
        for notFork in ["/v1/sessions//fork", "/v1/sessions/a/b/fork", "/v1/sessions/fork", "/v1/other/s-1/fork"] {
            #expect(OpsEndpoint.forkSource(notFork) == nil, "\(notFork)")
        }
        #expect(OpsEndpoint.error(WireError(.quotaExceeded, "over", field: "session")).status == .tooManyRequests)
        #expect(OpenAIError(EngineError(.quotaExceeded, "over", field: "session")).code == "quota_exceeded")
    }
}
