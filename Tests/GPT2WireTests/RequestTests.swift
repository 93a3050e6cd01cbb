import Testing
import GPT2JSON
@testable import GPT2Wire

/// Encodes `r` as a client would, parses the line as the daemon would, decodes it back.
func wireRoundTrip<R: WireRequest>(_ r: R, id: RequestID? = 1) throws -> R {
    var line = RequestLine.encode(r, id: id)
    #expect(line.last == 0x0A)
    line.removeLast()
    #expect(!line.contains(0x0A))
    let env = try Envelope.parse(line)
    #expect(env.op == R.op)
    #expect(env.id == id)
    return try env.decode(R.self)
}

@Suite struct RequestTests {
    /// The error decoding `body` (a JSON object text) as `R`.
    func error<R: WireRequest>(_ type: R.Type, _ body: String) -> WireError? {
        guard case .object(let o)? = try? JSON.parse(body) else { Issue.record("bad test JSON"); return nil }
        do { _ = try R(from: o); return nil } catch { return error }
    }

    @Test func roundTripEveryRequest() throws {
        #expect(try wireRoundTrip(HealthRequest()) == HealthRequest())
        #expect(try wireRoundTrip(ModelsRequest(), id: "m") == ModelsRequest())
        #expect(try wireRoundTrip(StatsRequest(), id: nil) == StatsRequest())
        #expect(try wireRoundTrip(SessionListRequest()) == SessionListRequest())
        let tok = TokenizeRequest(model: "gpt2", text: " Hello, 世界 😀\n/")
        #expect(try wireRoundTrip(tok) == tok)
        let detok = DetokenizeRequest(model: "gpt2", tokens: [15496, 0, 50256], skipSpecialTokens: true)
        #expect(try wireRoundTrip(detok) == detok)
        #expect(try wireRoundTrip(DetokenizeRequest(model: "m", tokens: [])) == DetokenizeRequest(model: "m", tokens: []))
        let gen = GenerateRequest(
            model: "gpt2", input: .text("Once upon"), session: "s1", maxNewTokens: 64, doSample: true,
            temperature: 0.7, topK: 40, topP: 0.95, repetitionPenalty: 1.3, seed: 42, stop: ["\n\n", "END"],
            stream: true, logprobs: true)
        #expect(try wireRoundTrip(gen) == gen)
        let genTokens = GenerateRequest(model: "gpt2", input: .tokens([50256, 464]))
        #expect(try wireRoundTrip(genTokens) == genTokens)
        let score = ScoreRequest(model: "gpt2", input: .text("The cat sat."), session: "s", topLogprobs: 5)
        #expect(try wireRoundTrip(score) == score)
        let scoreTokens = ScoreRequest(model: "gpt2", input: .tokens([1, 2, 3]))
        #expect(try wireRoundTrip(scoreTokens) == scoreTokens)
        #expect(try wireRoundTrip(SessionOpenRequest(model: "gpt2")) == SessionOpenRequest(model: "gpt2"))
        #expect(try wireRoundTrip(SessionCloseRequest(session: "abc")) == SessionCloseRequest(session: "abc"))
        #expect(try wireRoundTrip(SessionInfoRequest(session: "abc")) == SessionInfoRequest(session: "abc"))
        #expect(try wireRoundTrip(CancelRequest(targetID: 17)) == CancelRequest(targetID: 17))
        #expect(try wireRoundTrip(CancelRequest(targetID: "gen-1")) == CancelRequest(targetID: "gen-1"))
        #expect(try wireRoundTrip(CancelRequest(targetID: .double(2.5))) == CancelRequest(targetID: .double(2.5)))
    }

    @Test func requestLineShape() {
        let line = String(decoding: RequestLine.encode(TokenizeRequest(model: "gpt2", text: "a/b"), id: "t1"), as: UTF8.self)
        #expect(line == #"{"id":"t1","op":"tokenize","model":"gpt2","text":"a/b"}"# + "\n")
    }

    @Test func generateDefaultsFollowTransformers() throws {
        let g = try GenerateRequest(from: ["model": "gpt2", "prompt": "Hi"])
        #expect(g.maxNewTokens == nil)
        #expect(GenerateRequest.defaultMaxNewTokens == 20)
        #expect(g.doSample == false)
        #expect(g.temperature == 1.0)
        #expect(g.topK == 50)
        #expect(g.topP == 1.0)
        #expect(g.repetitionPenalty == 1.0)
        #expect(g.seed == nil)
        #expect(g.stop == [])
        #expect(g.stream == false)
        #expect(g.logprobs == false)
        #expect(g.session == nil)
        // null means absent; unknown fields are ignored; ints are accepted for numbers.
        let h = try GenerateRequest(from: ["model": "gpt2", "prompt": "Hi", "session": nil, "top_p": 1, "num_beams": 4])
        #expect(h.session == nil && h.topP == 1.0)
        #expect(try GenerateRequest(from: ["model": "m", "prompt": "x", "stop": "\n"]).stop == ["\n"])
    }

    @Test func generateValidation() {
        let cases: [(String, WireErrorCode, String)] = [
            (#"{"prompt":"x"}"#, .missingField, "model"),
            (#"{"model":"","prompt":"x"}"#, .invalidField, "model"),
            (#"{"model":7,"prompt":"x"}"#, .invalidField, "model"),
            (#"{"model":"m"}"#, .missingField, "prompt"),
            (#"{"model":"m","prompt":"x","tokens":[1]}"#, .invalidField, "tokens"),
            (#"{"model":"m","prompt":""}"#, .invalidField, "prompt"),
            (#"{"model":"m","prompt":["x"]}"#, .invalidField, "prompt"),
            (#"{"model":"m","tokens":[]}"#, .invalidField, "tokens"),
            (#"{"model":"m","tokens":[1,-2]}"#, .invalidField, "tokens"),
            (#"{"model":"m","tokens":[1,2.5]}"#, .invalidField, "tokens"),
            (#"{"model":"m","tokens":"1 2"}"#, .invalidField, "tokens"),
            (#"{"model":"m","prompt":"x","max_new_tokens":-1}"#, .invalidField, "max_new_tokens"),
            (#"{"model":"m","prompt":"x","max_new_tokens":20.0}"#, .invalidField, "max_new_tokens"),
            (#"{"model":"m","prompt":"x","max_new_tokens":"20"}"#, .invalidField, "max_new_tokens"),
            (#"{"model":"m","prompt":"x","max_new_tokens":99999999}"#, .invalidField, "max_new_tokens"),
            (#"{"model":"m","prompt":"x","do_sample":1}"#, .invalidField, "do_sample"),
            (#"{"model":"m","prompt":"x","temperature":0}"#, .invalidField, "temperature"),
            (#"{"model":"m","prompt":"x","temperature":-1}"#, .invalidField, "temperature"),
            (#"{"model":"m","prompt":"x","top_k":-1}"#, .invalidField, "top_k"),
            (#"{"model":"m","prompt":"x","top_p":0}"#, .invalidField, "top_p"),
            (#"{"model":"m","prompt":"x","top_p":1.5}"#, .invalidField, "top_p"),
            (#"{"model":"m","prompt":"x","repetition_penalty":0}"#, .invalidField, "repetition_penalty"),
            (#"{"model":"m","prompt":"x","seed":-1}"#, .invalidField, "seed"),
            (#"{"model":"m","prompt":"x","seed":1.5}"#, .invalidField, "seed"),
            (#"{"model":"m","prompt":"x","stop":[1]}"#, .invalidField, "stop"),
            (#"{"model":"m","prompt":"x","stop":[""]}"#, .invalidField, "stop"),
            (#"{"model":"m","prompt":"x","stop":{}}"#, .invalidField, "stop"),
            (#"{"model":"m","prompt":"x","stream":"yes"}"#, .invalidField, "stream"),
            (#"{"model":"m","prompt":"x","logprobs":0}"#, .invalidField, "logprobs"),
            (#"{"model":"m","prompt":"x","session":""}"#, .invalidField, "session"),
            (#"{"model":"m","prompt":"x","session":3}"#, .invalidField, "session"),
        ]
        for (body, code, field) in cases {
            let e = error(GenerateRequest.self, body)
            #expect(e?.code == code, "\(body)")
            #expect(e?.field == field, "\(body)")
            #expect(e?.message.contains("'\(field)'") == true, "\(body): \(e?.message ?? "-")")
        }
        let seventeen = "[" + (0..<17).map { "\"s\($0)\"" }.joined(separator: ",") + "]"
        #expect(error(GenerateRequest.self, #"{"model":"m","prompt":"x","stop":"# + seventeen + "}")?.field == "stop")
    }

    @Test func invalidFieldMessageSaysWhatWasExpected() {
        let e = error(GenerateRequest.self, #"{"model":"m","prompt":"x","top_p":1.5}"#)
        #expect(e?.message == "field 'top_p': expected a number in (0, 1], got 1.5")
        let k = error(GenerateRequest.self, #"{"model":"m","prompt":"x","top_k":"5"}"#)
        #expect(k?.message == #"field 'top_k': expected an integer >= 0, got "5""#)
        let m = error(TokenizeRequest.self, #"{"text":"x"}"#)
        #expect(m?.message == "missing required field 'model'")
    }

    @Test func otherValidation() {
        #expect(error(TokenizeRequest.self, #"{"model":"m"}"#)?.field == "text")
        #expect(error(TokenizeRequest.self, #"{"model":"m","text":null}"#)?.code == .missingField)
        #expect(error(TokenizeRequest.self, #"{"model":"m","text":1}"#)?.code == .invalidField)
        #expect(error(DetokenizeRequest.self, #"{"model":"m"}"#)?.field == "tokens")
        #expect(error(DetokenizeRequest.self, #"{"model":"m","tokens":[-1]}"#)?.code == .invalidField)
        #expect(error(DetokenizeRequest.self, #"{"model":"m","tokens":[1],"skip_special_tokens":"no"}"#)?.field == "skip_special_tokens")
        #expect(error(ScoreRequest.self, #"{"model":"m"}"#)?.field == "text")
        #expect(error(ScoreRequest.self, #"{"model":"m","text":"a","tokens":[1]}"#)?.code == .invalidField)
        #expect(error(ScoreRequest.self, #"{"model":"m","text":"a","top_logprobs":21}"#)?.field == "top_logprobs")
        #expect(error(ScoreRequest.self, #"{"model":"m","text":"a","top_logprobs":-1}"#)?.field == "top_logprobs")
        #expect(error(SessionOpenRequest.self, #"{}"#)?.field == "model")
        #expect(error(SessionCloseRequest.self, #"{}"#)?.code == .missingField)
        #expect(error(SessionInfoRequest.self, #"{"session":1}"#)?.code == .invalidField)
        #expect(error(CancelRequest.self, #"{}"#)?.field == "target_id")
        #expect(error(CancelRequest.self, #"{"target_id":[1]}"#)?.code == .invalidField)
        #expect(error(HealthRequest.self, #"{"anything":1}"#) == nil)
    }
}
