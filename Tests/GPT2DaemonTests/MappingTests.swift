// The mapping layer (Sources/GPT2Daemon/Mapping): wire requests become engine requests field for
// field, engine results and errors become the wire values clients see, and request ids become
// `cancel` keys that keep the id's kind.
import Testing
import GPT2JSON
import GPT2Wire
@testable import GPT2Daemon

@Suite struct MappingTests {
    @Test func everyEngineErrorCodeMapsToTheWireCodeOfTheSameName() {
        let names: [EngineError.Code: String] = [
            .invalidField: "invalid_field", .unknownModel: "unknown_model", .unknownSession: "unknown_session",
            .sessionForbidden: "session_forbidden", .sessionBusy: "session_busy", .contextOverflow: "context_overflow",
            .unsupportedTask: "unsupported_task", .overloaded: "overloaded", .cancelled: "cancelled",
            .modelUnavailable: "model_unavailable", .tooLarge: "too_large", .shuttingDown: "shutting_down", .internalError: "internal_error",
            .storageUnavailable: "storage_unavailable", .quotaExceeded: "quota_exceeded", .modelExists: "model_exists",
            .modelLoadFailed: "model_load_failed",
        ]
        #expect(names.count == EngineError.Code.allCases.count)
        for code in EngineError.Code.allCases {
            let w = WireError(EngineError(code, "why", field: "f"))
            #expect(w.code.rawValue == names[code], "\(code)")
            #expect(w.message == "why" && w.field == "f")
        }
        #expect(WireError(EngineError(.overloaded, "m")).field == nil)
    }

    @Test func aGenerateRequestBecomesTheSameGenerationRequest() throws {
        let line = #"{"model":"m","tokens":[1,2],"max_new_tokens":7,"do_sample":true,"temperature":0.5,"top_k":3,"top_p":0.9,"repetition_penalty":1.2,"seed":9,"stop":["x"],"stream":true,"logprobs":true,"min_new_tokens":2,"no_repeat_ngram_size":3,"bad_words_ids":[[4,5]],"suppress_tokens":[6],"min_p":0.1,"typical_p":0.8,"presence_penalty":0.5,"frequency_penalty":-0.5,"logit_bias":{"13":2.5},"num_return_sequences":2,"length_penalty":0.7,"early_stopping":"never","top_logprobs":4,"logprobs_mode":"processed","include_stop_str_in_output":true,"ignore_eos":true}"#
        guard case .object(let o) = try JSON.parse(line) else { Issue.record("not an object"); return }
        let g = GenerationRequest(try GenerateRequest(from: o))
        #expect(g.model == "m" && g.prompt == .tokens([1, 2]) && g.session == nil && g.maxNewTokens == 7)
        #expect(g.doSample && g.temperature == 0.5 && g.topK == 3 && g.topP == 0.9 && g.repetitionPenalty == 1.2 && g.seed == 9)
        #expect(g.stop == ["x"] && g.stream && g.logprobs && g.minNewTokens == 2 && g.noRepeatNGramSize == 3)
        #expect(g.badWordsIDs == [[4, 5]] && g.suppressTokens == [6] && g.minP == 0.1 && g.typicalP == 0.8)
        #expect(g.presencePenalty == 0.5 && g.frequencyPenalty == -0.5 && g.logitBias == [13: 2.5])
        #expect(g.numReturnSequences == 2 && g.numBeams == 1 && g.lengthPenalty == 0.7 && g.earlyStopping == .never)
        #expect(g.topLogprobs == 4 && g.logprobsMode == .processed && g.includeStopInOutput && g.ignoreEOS)
        #expect(GenerationRequest(GenerateRequest(model: "m", input: .text("hi"), session: "s1")).session == "s1")
        // The defaults of an empty request are the engine's defaults.
        let d = GenerationRequest(GenerateRequest(model: "m", input: .text("hi")))
        let e = GenerationRequest(model: "m", prompt: .text("hi"))
        #expect(d.temperature == e.temperature && d.topK == e.topK && d.topP == e.topP && d.earlyStopping == e.earlyStopping
                && d.logprobsMode == e.logprobsMode && d.maxNewTokens == e.maxNewTokens && d.numBeams == e.numBeams)
    }

    @Test func engineResultsBecomeTheWireResponses() {
        let result = GenerationResult(
            text: "ab", tokens: [1, 2], finishReason: .stop,
            usage: GenerationUsage(promptTokens: 3, completionTokens: 2, cachedTokens: 1),
            timing: GenerationTiming(queueMs: 1, promptMs: 2, completionMs: 3, totalMs: 6),
            logprobs: [-0.5, nil], topLogprobs: [[RankedToken(token: 1, logprob: -0.5)], []],
            sequences: [SequenceOutput(text: "ab", tokens: [1, 2], finishReason: .eos, logprobs: nil, score: -1.5)])
        let r = GenerateResponse(result)
        #expect(r.text == "ab" && r.tokens == [1, 2] && r.finishReason == .stop)
        #expect(r.usage.promptTokens == 3 && r.usage.completionTokens == 2 && r.usage.cachedTokens == 1)
        #expect(r.timing.queueMs == 1 && r.timing.promptMs == 2 && r.timing.completionMs == 3 && r.timing.totalMs == 6)
        #expect(r.logprobs == [-0.5, nil] && r.topLogprobs?.first?.first == TokenLogprob(token: 1, logprob: -0.5))
        #expect(r.sequences?.first?.finishReason == .eos && r.sequences?.first?.score == -1.5)
        let t = TokenEvent(GeneratedToken(index: 4, token: 7, text: "x", logprob: nil, sequence: 2, topLogprobs: nil))
        #expect(t.index == 4 && t.token == 7 && t.text == "x" && t.sequence == 2 && t.logprob == nil && t.topLogprobs == nil)
        let s = ScoreResponse(ScoreResult(tokens: [1, 2], logprobs: [nil, -1], perplexity: 2.7, topLogprobs: [nil, [RankedToken(token: 3, logprob: nil)]]))
        #expect(s.tokens == [1, 2] && s.logprobs == [nil, -1] && s.perplexity == 2.7 && s.topLogprobs?[1]?.first?.token == 3)
        let info = SessionInfo(SessionSnapshot(id: "s-1", model: "m", tokenCount: 5, busy: true, createdAt: 10, lastUsedAt: 11))
        #expect(info.session == "s-1" && info.model == "m" && info.nTokens == 5 && info.busy && info.createdAt == 10 && info.lastUsedAt == 11)
    }

    @Test func requestIDsOfDifferentKindsAreDifferentCancelKeys() {
        let ids: [RequestID] = [.int(7), .double(7), .string("7"), .string("i:7")]
        let keys = ids.map { JobKey(connection: 1, id: $0) }
        #expect(Set(keys).count == ids.count)
        #expect(JobKey(connection: 1, id: .int(7)) == JobKey(connection: 1, id: .int(7)))
        #expect(JobKey(connection: 1, id: .int(7)) != JobKey(connection: 2, id: .int(7)))
        #expect(JobKey(connection: 1, id: .double(0)) == JobKey(connection: 1, id: .double(-0.0)))
        #expect(JobKey(connection: 1, id: nil).tag == nil)
    }
}
