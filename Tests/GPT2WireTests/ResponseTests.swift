import Testing
import GPT2JSON
@testable import GPT2Wire

/// Encodes `r` as a result line (daemon side), reads it back as a client.
func resultRoundTrip<R: WireResponse>(_ r: R, id: RequestID? = 9) throws -> R {
    var line = ResponseLine.result(id: id, r)
    #expect(line.last == 0x0A)
    line.removeLast()
    #expect(!line.contains(0x0A))
    let incoming = try IncomingResponse.parse(line)
    #expect(incoming.id == id)
    guard case .result(let body) = incoming.kind else { Issue.record("not a result"); throw WireError(.internalError, "") }
    return try R(from: body)
}

@Suite struct ResponseTests {
    let gpt2 = ModelInfo(
        name: "gpt2", architecture: "GPT2LMHeadModel", tasks: ["generate", "score"], nLayer: 12, nEmbd: 768,
        nHead: 12, nPositions: 1024, vocabSize: 50257, dtype: "float32")
    let session = SessionInfo(session: "s-1", model: "gpt2", nTokens: 12, busy: true, createdAt: 1_700_000_000.5, lastUsedAt: 1_700_000_100.25)

    @Test func roundTripEveryResponse() throws {
        let health = HealthResponse(uptimeSeconds: 12.5)
        #expect(try resultRoundTrip(health) == health)
        let classifier = ModelInfo(
            name: "sst2", architecture: "GPT2ForSequenceClassification", tasks: ["classify"], nLayer: 2, nEmbd: 64,
            nHead: 2, nPositions: 128, vocabSize: 50257, dtype: "float16", labels: ["NEGATIVE", "POSITIVE"])
        let models = ModelsResponse(models: [gpt2, classifier])
        #expect(try resultRoundTrip(models) == models)
        let tok = TokenizeResponse(tokens: [15496, 995], offsets: [TextSpan(start: 0, end: 5), TextSpan(start: 5, end: 11)])
        #expect(try resultRoundTrip(tok) == tok)
        #expect(try resultRoundTrip(DetokenizeResponse(text: "Hello\n\"world\" 😀")) == DetokenizeResponse(text: "Hello\n\"world\" 😀"))
        let gen = GenerateResponse(
            text: " there", tokens: [612, 50256], finishReason: .eos,
            usage: .init(promptTokens: 3, completionTokens: 2, cachedTokens: 1),
            timing: .init(queueMs: 0.5, promptMs: 3.25, completionMs: 10.0, totalMs: 14.0),
            logprobs: [-0.5, nil])
        #expect(try resultRoundTrip(gen) == gen)
        let genPlain = GenerateResponse(
            text: "", tokens: [], finishReason: .length, usage: .init(promptTokens: 1, completionTokens: 0),
            timing: .init(queueMs: 0, promptMs: 0, completionMs: 0, totalMs: 0))
        #expect(try resultRoundTrip(genPlain) == genPlain)
        let score = ScoreResponse(
            tokens: [464, 3797], logprobs: [nil, -7.25], perplexity: 1408.1,
            topLogprobs: [nil, [TokenLogprob(token: 318, logprob: -2.5), TokenLogprob(token: 3797, logprob: -7.25)]])
        #expect(try resultRoundTrip(score) == score)
        let single = ScoreResponse(tokens: [464], logprobs: [nil], perplexity: nil)
        #expect(try resultRoundTrip(single) == single)
        #expect(try resultRoundTrip(session) == session)
        let list = SessionListResponse(sessions: [session, SessionInfo(session: "s-2", model: "gpt2", createdAt: 1, lastUsedAt: 2)])
        #expect(try resultRoundTrip(list) == list)
        #expect(try resultRoundTrip(SessionListResponse(sessions: [])) == SessionListResponse(sessions: []))
        #expect(try resultRoundTrip(SessionCloseResponse(session: "s-1")) == SessionCloseResponse(session: "s-1"))
        #expect(try resultRoundTrip(CancelResponse(targetID: "g1", cancelled: true)) == CancelResponse(targetID: "g1", cancelled: true))
        let stats = StatsResponse(
            uptimeSeconds: 3600, connections: 2, requestsActive: 1, queueDepth: 0, requestsTotal: 100, errorsTotal: 3,
            promptTokensTotal: 5000, completionTokensTotal: 2000, sessions: 4)
        #expect(try resultRoundTrip(stats) == stats)
    }

    @Test func tokenLines() throws {
        let e = TokenEvent(index: 0, token: 612, text: " there", logprob: -0.25)
        let line = ResponseLine.token(id: "g", e)
        #expect(String(decoding: line, as: UTF8.self) == #"{"id":"g","type":"token","index":0,"token":612,"text":" there","logprob":-0.25}"# + "\n")
        let back = try IncomingResponse.parse(line.dropLast())
        #expect(back == IncomingResponse(id: "g", kind: .token(e)))
        let noLogprob = TokenEvent(index: 3, token: 10, text: "")
        #expect(String(decoding: ResponseLine.token(id: 1, noLogprob), as: UTF8.self) == #"{"id":1,"type":"token","index":3,"token":10,"text":""}"# + "\n")
    }

    @Test func errorLines() throws {
        let err = WireError.invalidField("top_p", expected: "a number in (0, 1]", got: 2)
        let line = ResponseLine.error(id: 4, err)
        #expect(String(decoding: line, as: UTF8.self) == #"{"id":4,"type":"error","error":{"code":"invalid_field","message":"field 'top_p': expected a number in (0, 1], got 2","field":"top_p"}}"# + "\n")
        #expect(try IncomingResponse.parse(line.dropLast()) == IncomingResponse(id: 4, kind: .error(err)))
        let plain = WireError(.overloaded, "queue full")
        #expect(String(decoding: ResponseLine.error(id: nil, plain), as: UTF8.self) == #"{"id":null,"type":"error","error":{"code":"overloaded","message":"queue full"}}"# + "\n")
        // A code from a newer daemon decodes as internal_error, keeping the original code in the message.
        let future = try IncomingResponse.parse(Array(#"{"id":1,"type":"error","error":{"code":"new_thing","message":"m"}}"#.utf8))
        #expect(future.kind == .error(WireError(.internalError, "new_thing: m")))
    }

    @Test func nonFiniteNumbersNeverReachTheWire() throws {
        let score = ScoreResponse(tokens: [1, 2, 3], logprobs: [nil, -.infinity, .nan], perplexity: .infinity)
        let text = String(decoding: ResponseLine.result(id: 1, score), as: UTF8.self)
        #expect(text == #"{"id":1,"type":"result","tokens":[1,2,3],"logprobs":[null,null,null],"perplexity":null}"# + "\n")
        let token = String(decoding: ResponseLine.token(id: 1, TokenEvent(index: 0, token: 1, text: "x", logprob: -.infinity)), as: UTF8.self)
        #expect(!token.contains("nf") && !token.contains("NaN"))
        #expect(token.contains(#""logprob":null"#))
    }

    @Test func resultLineShapeAndReservedKeys() {
        let text = String(decoding: ResponseLine.result(id: "a", body: ["id": 5, "type": "x", "text": "ok"]), as: UTF8.self)
        #expect(text == #"{"id":"a","type":"result","text":"ok"}"# + "\n")
    }

    @Test func clientSideDecodeErrors() {
        #expect(throws: WireError.self) { try IncomingResponse.parse(Array("nope".utf8)) }
        #expect(throws: WireError.self) { try IncomingResponse.parse(Array(#"{"id":1,"type":"bogus"}"#.utf8)) }
        #expect(throws: WireError.self) { try GenerateResponse(from: ["text": "", "tokens": [], "finish_reason": "cancelled", "usage": [:], "timing": [:]]) }
    }
}
