// The wire side of sessions with a life cycle (issue #15 point 2): session.open's `name` and
// `idle_timeout_s` (checked here, in the wire layer), session.fork, the session object's sizes and
// `created`, session.list's totals — exact lines, and an older daemon's lines still read.
import Testing
import GPT2JSON
@testable import GPT2Wire

@Suite struct SessionLifecycleWireTests {
    func error<R: WireRequest>(_ type: R.Type, _ body: String) -> WireError? {
        guard case .object(let o)? = try? JSON.parse(body) else { Issue.record("bad test JSON"); return nil }
        do { _ = try R(from: o); return nil } catch { return error }
    }

    func line<R: WireRequest>(_ r: R) -> String { String(decoding: RequestLine.encode(r, id: 1).dropLast(), as: UTF8.self) }
    func resultLine<R: WireResponse>(_ r: R) -> String { String(decoding: ResponseLine.result(id: 1, r).dropLast(), as: UTF8.self) }

    @Test func namesAreOneTo128BytesWithoutControlCharacters() throws {
        for good in ["chat", "a", String(repeating: "x", count: 128), String(repeating: "é", count: 64), "my chat: 2026-12-01 😀", " "] {
            #expect(SessionName.isValid(good), "\(good)")
            let r = SessionOpenRequest(model: "gpt2", name: good)
            #expect(try wireRoundTrip(r) == r)
        }
        for bad in ["", String(repeating: "x", count: 129), String(repeating: "é", count: 64) + "x", "a\nb", "tab\t", "\u{7F}", "\u{85}", "\u{0}"] {
            #expect(!SessionName.isValid(bad), "\(bad.debugDescription)")
        }
        let e = try #require(error(SessionOpenRequest.self, #"{"model":"m","name":"a\u0001"}"#))
        #expect(e.code == .invalidField && e.field == "name")
        #expect(e.message.hasPrefix("field 'name': expected a string of 1 to 128 UTF-8 bytes without control characters"))
        #expect(error(SessionOpenRequest.self, #"{"model":"m","name":""}"#)?.field == "name")
        #expect(error(SessionOpenRequest.self, #"{"model":"m","name":7}"#)?.field == "name")
        #expect(error(SessionForkRequest.self, #"{"session":"s","name":"\u001f"}"#)?.field == "name")
        #expect(error(SessionOpenRequest.self, #"{"model":"m","name":null}"#) == nil, "null is absent")
    }

    @Test func idleTimeoutsArePositiveNumbers() throws {
        for bad in ["0", "-1", "\"60\"", "true"] {
            let e = error(SessionOpenRequest.self, #"{"model":"m","idle_timeout_s":"# + bad + "}")
            #expect(e?.code == .invalidField && e?.field == "idle_timeout_s", "\(bad)")
        }
        let r = SessionOpenRequest(model: "gpt2", name: "chat", idleTimeoutSeconds: 30)
        #expect(try wireRoundTrip(r) == r)
        #expect(line(r) == #"{"id":1,"op":"session.open","model":"gpt2","name":"chat","idle_timeout_s":30.0}"#)
        #expect(line(SessionOpenRequest(model: "gpt2")) == #"{"id":1,"op":"session.open","model":"gpt2"}"#, "unchanged without the new fields")
    }

    @Test func forkIsAnOpOfItsOwn() throws {
        #expect(WireOps.requestType(for: "session.fork") == SessionForkRequest.self)
        let r = SessionForkRequest(session: "s-1", name: "branch")
        #expect(try wireRoundTrip(r) == r)
        #expect(line(r) == #"{"id":1,"op":"session.fork","session":"s-1","name":"branch"}"#)
        #expect(line(SessionForkRequest(session: "s-1")) == #"{"id":1,"op":"session.fork","session":"s-1"}"#)
        #expect(error(SessionForkRequest.self, #"{}"#)?.code == .missingField)
        #expect(error(SessionForkRequest.self, #"{"session":""}"#)?.field == "session")
    }

    @Test func theSessionObjectCarriesSizesTimeOutNameAndCreated() throws {
        let s = SessionInfo(session: "s-1", model: "gpt2", nTokens: 12, busy: false, createdAt: 1.5, lastUsedAt: 2.5,
                            name: "chat", bytes: 48, kvBytes: 73728, idleTimeoutSeconds: 600, created: false)
        #expect(try resultRoundTrip(s) == s)
        #expect(resultLine(s) == #"{"id":1,"type":"result","session":"s-1","model":"gpt2","n_tokens":12,"busy":false,"created_at":1.5,"last_used_at":2.5,"name":"chat","bytes":48,"kv_bytes":73728,"idle_timeout_s":600.0,"created":false}"#)
        // An older daemon's object (none of the new fields) still reads.
        guard case .object(let old) = try JSON.parse(#"{"session":"s","model":"m","n_tokens":1,"busy":true,"created_at":1,"last_used_at":2}"#) else {
            Issue.record("bad test JSON"); return
        }
        let read = try SessionInfo(from: old)
        #expect(read.name == nil && read.bytes == nil && read.kvBytes == nil && read.idleTimeoutSeconds == nil && read.created == nil)
    }

    @Test func theListCarriesTheCallersTotalsAndQuotas() throws {
        let totals = SessionTotals(sessions: 2, maxSessions: 16, nTokens: 30, maxTokens: 1 << 20, bytes: 120, kvBytes: 4096)
        let list = SessionListResponse(sessions: [SessionInfo(session: "s-2", model: "gpt2", createdAt: 1, lastUsedAt: 2)], totals: totals)
        #expect(try resultRoundTrip(list) == list)
        #expect(resultLine(SessionListResponse(sessions: [], totals: totals)) == #"{"id":1,"type":"result","sessions":[],"totals":{"sessions":2,"max_sessions_per_user":16,"n_tokens":30,"max_session_tokens_per_user":1048576,"bytes":120,"kv_bytes":4096}}"#)
    }

    @Test func quotaExceededIsAStableCode() {
        #expect(WireErrorCode(rawValue: "quota_exceeded") == .quotaExceeded)
    }
}
