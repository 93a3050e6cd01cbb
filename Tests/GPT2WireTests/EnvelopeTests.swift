import Testing
import GPT2JSON
@testable import GPT2Wire

@Suite struct EnvelopeTests {
    func parse(_ s: String) throws(EnvelopeError) -> Envelope { try Envelope.parse(Array(s.utf8)) }
    func failure(_ bytes: [UInt8]) -> EnvelopeError? {
        do { _ = try Envelope.parse(bytes); return nil } catch { return error }
    }
    func failure(_ s: String) -> EnvelopeError? { failure(Array(s.utf8)) }
    func line(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func idsEchoedExactly() throws {
        #expect(try parse(#"{"id":"abc","op":"health"}"#).id == .string("abc"))
        #expect(try parse(#"{"id":7,"op":"health"}"#).id == .int(7))
        #expect(try parse(#"{"id":-7.25,"op":"health"}"#).id == .double(-7.25))
        #expect(try parse(#"{"op":"health"}"#).id == nil)
        #expect(try parse(#"{"op":"health","id":null}"#).id == nil)
        for raw in [#""abc""#, "7", "-7.25", "1e+100", "9223372036854775807", #""""#, #""é/😀""#] {
            let env = try parse(#"{"op":"health","id":"# + raw + "}")
            let out = line(ResponseLine.result(id: env.id, body: [:]))
            #expect(out == #"{"id":"# + raw + #","type":"result"}"# + "\n")
        }
    }

    @Test func numericIdsEchoAsTheSameValue() throws {
        let cases = [("1E5", "100000.0"), ("-0", "0"), ("2.50", "2.5")]
        for (sent, echoed) in cases {
            let env = try parse(#"{"op":"health","id":"# + sent + "}")
            #expect(line(ResponseLine.result(id: env.id, body: [:])) == #"{"id":"# + echoed + #","type":"result"}"# + "\n")
        }
    }

    @Test func bodyExcludesIdAndOpKeepsOthers() throws {
        let env = try parse(#"{"id":1,"op":"tokenize","model":"gpt2","text":"hi","future":true}"#)
        #expect(env.op == "tokenize")
        #expect(env.body == ["model": "gpt2", "text": "hi", "future": true])
        #expect(try env.decode(TokenizeRequest.self) == TokenizeRequest(model: "gpt2", text: "hi"))
    }

    @Test func malformedLines() {
        #expect(failure(#"{"op":"health""#)?.error.code == .parseError)
        #expect(failure(#"{'op':'health'}"#)?.error.code == .parseError)
        #expect(failure(#"{"op":"health"} x"#)?.error.code == .parseError)
        #expect(failure(#"{"op":NaN}"#)?.error.code == .parseError)
        #expect(failure(#"{"op":"health""#)?.id == nil)
        #expect(failure([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])?.error.code == .invalidUTF8)
        #expect(failure([0x22, 0xC0, 0xAF, 0x22])?.error.code == .invalidUTF8)
        #expect(failure("[1,2]")?.error.code == .invalidRequest)
        #expect(failure(#""health""#)?.error.code == .invalidRequest)
        #expect(failure(String(repeating: "[", count: 40) + String(repeating: "]", count: 40))?.error.code == .parseError)
    }

    @Test func badOpStillEchoesId() {
        let missing = failure(#"{"id":"x1","model":"gpt2"}"#)
        #expect(missing?.error.code == .invalidRequest)
        #expect(missing?.error.field == "op")
        #expect(missing?.id == .string("x1"))
        let wrongType = failure(#"{"id":5,"op":42}"#)
        #expect(wrongType?.error.code == .invalidRequest)
        #expect(wrongType?.id == .int(5))
    }

    @Test func unreadableIdGivesNullId() throws {
        let e = try #require(failure(#"{"id":[1],"op":"health"}"#))
        #expect(e.error.code == .invalidRequest)
        #expect(e.error.field == "id")
        #expect(e.id == nil)
        let out = line(ResponseLine.error(e))
        #expect(out.hasPrefix(#"{"id":null,"type":"error","error":{"code":"invalid_request","#))
        #expect(out.hasSuffix("}\n"))
        for bad in [#"{"id":true,"op":"health"}"#, #"{"id":{},"op":"health"}"#] {
            #expect(failure(bad)?.error.code == .invalidRequest)
        }
    }

    @Test func unknownOp() throws {
        let env = try parse(#"{"id":3,"op":"summarize"}"#)
        #expect(WireOps.requestType(for: env.op) == nil)
        let e = WireOps.unknownOp(env.op)
        #expect(e.code == .unknownOp)
        #expect(line(ResponseLine.error(id: env.id, e)) == #"{"id":3,"type":"error","error":{"code":"unknown_op","message":"unknown op 'summarize'","field":"op"}}"# + "\n")
    }

    @Test func everyV1OpIsRegisteredOnce() {
        let ops = WireOps.v1.map { $0.op }
        #expect(ops == ["health", "models", "tokenize", "detokenize", "generate", "score", "session.open",
                        "session.close", "session.list", "session.info", "cancel", "stats",
                        "classify", "tag", "qa", "choose", "embed", "metrics", "session.fork", "models.load", "models.unload"])
        #expect(Set(ops).count == ops.count)
        for op in ops { #expect(WireOps.requestType(for: op)?.op == op) }
    }

    @Test func errorCodesAreStableStrings() {
        #expect(WireErrorCode.allCases.map(\.rawValue) == [
            "parse_error", "invalid_utf8", "line_too_long", "invalid_request", "unknown_op", "invalid_field",
            "missing_field", "unknown_model", "unknown_session", "session_forbidden", "session_busy",
            "context_overflow", "unsupported_task", "overloaded", "cancelled", "shutting_down", "internal_error",
            "model_unavailable", "too_large", "forbidden", "storage_unavailable", "quota_exceeded", "model_exists", "model_load_failed",
        ])
    }
}

@Suite struct WireErrorBoundTests {
    /// A request value quoted in an error (a megabyte "model") leaves at most maxMessageBytes of it.
    @Test func messagesQuoteAFewHundredBytesAtMost() {
        let e = WireError(.unknownModel, "no model named '\(String(repeating: "m", count: 1_000_000))'", field: "model")
        #expect(e.message.utf8.count <= WireError.maxMessageBytes + 32)
        #expect(e.message.hasSuffix("…(1000017 bytes)"))
        #expect(WireError(.unknownModel, "no model named 'x'").message == "no model named 'x'")
    }
}
