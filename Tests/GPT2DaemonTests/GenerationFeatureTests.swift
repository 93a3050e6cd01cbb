// Generation features through the engine (issue #6): several sequences from one prompt, beam
// search, automatic prefix caching, top log-probabilities, stop-string inclusion and the logits
// processors reached through request fields.
import Foundation
import Testing
import GPT2Core
import GPT2Wire
import GPT2JSON
import GPT2TestSupport
@testable import GPT2Daemon

private func request(_ prompt: PromptInput, max: Int = 12, _ tweak: (inout GenerateRequest) -> Void = { _ in }) -> GenerateRequest {
    var r = GenerateRequest(model: "tiny", input: prompt, maxNewTokens: max)
    tweak(&r)
    return r
}

@Suite struct GenerationFeatureTests {
    @Test func severalSampledSequencesShareOnePrompt() async throws {
        let e = try makeEngine()
        let r = request(.text("Once upon a time"), max: 10) {
            $0.doSample = true; $0.seed = 99; $0.advanced.numReturnSequences = 3; $0.stream = true
        }
        let log = EventLog()
        let res = try await generate(e, r, log: log).get()
        let seqs = try #require(res.sequences)
        #expect(seqs.count == 3 && res.tokens == seqs[0].tokens && res.text == seqs[0].text)
        #expect(res.usage.completionTokens == seqs.reduce(0) { $0 + $1.tokens.count })
        // Each sequence's streamed pieces concatenate to its text.
        for i in 0..<3 {
            let mine = log.streamed.filter { $0.sequence == i }
            #expect(mine.map(\.text).joined() == seqs[i].text && mine.map(\.token) == seqs[i].tokens)
        }
        // Sequence i uses seed 99 + i: sequence 0 equals a single request with seed 99, and so on.
        for i in 0..<3 {
            let single = try await generate(e, request(.text("Once upon a time"), max: 10) { $0.doSample = true; $0.seed = 99 + UInt64(i) }).get()
            #expect(single.tokens == seqs[i].tokens, "sequence \(i)")
        }
        let again = try await generate(e, request(.text("Once upon a time"), max: 10) {
            $0.doSample = true; $0.seed = 99; $0.advanced.numReturnSequences = 3
        }).get()
        #expect(again.sequences == seqs.map { GeneratedSequence(text: $0.text, tokens: $0.tokens, finishReason: $0.finishReason) })
        #expect(e.stats().requestsActive == 0 && e.stats().kvBytesInUse > 0)  // prefix cache keeps entries
        await e.shutdown(drain: true)
    }

    @Test func beamSearchEqualsTheRunnersSearch() async throws {
        let e = try makeEngine()
        let prompt = [464, 3290, 373, 1043]
        let res = try await generate(e, request(.tokens(prompt), max: 8) {
            $0.advanced.numBeams = 3; $0.advanced.numReturnSequences = 2; $0.advanced.lengthPenalty = 0.7
        }).get()
        let m = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
        let runner = GPT2Runner(config: m.config, weights: m.weights)
        let want = try runner.beamSearch(prompt: prompt.map(Int32.init),
                                         parameters: BeamSearchParameters(numBeams: 3, lengthPenalty: 0.7, earlyStopping: .heuristic,
                                                                          numReturnSequences: 2, maxNewTokens: 8, eosTokenIDs: [50256]),
                                         cache: KVCache(pool: KVBlockPool(config: m.config)))
        let seqs = try #require(res.sequences)
        #expect(seqs.map(\.tokens) == want.map { Array($0.tokens[prompt.count...]).map(Int.init) })
        #expect(zip(seqs, want).allSatisfy { abs($0.score! - Double($1.score)) < 1e-4 })
        // Streaming beams is refused by the request decoder; cancelling one works.
        let body: JSONObject = ["model": "tiny", "prompt": "x", "num_beams": 2, "stream": true]
        #expect(throws: WireError.self) { try GenerateRequest(from: body) }
        await e.shutdown(drain: true)
    }

    @Test func aSharedPrefixIsReusedForTheSameUserOnly() async throws {
        let e = try makeEngine()
        let fresh = try makeEngine()
        let base = Array((0..<40).map { 1000 + $0 * 37 })
        _ = try await generate(e, request(.tokens(base), max: 4)).get()
        let longer = base + [11, 290, 262, 3290]
        let second = try await generate(e, request(.tokens(longer), max: 6)).get()
        #expect(second.usage.cachedTokens == base.count)
        let reference = try await generate(fresh, request(.tokens(longer), max: 6)).get()
        #expect(second.tokens == reference.tokens && reference.usage.cachedTokens == 0)
        // Another Unix user shares nothing.
        let other = try await generate(e, request(.tokens(longer), max: 6), client: bob).get()
        #expect(other.usage.cachedTokens == 0 && other.tokens == reference.tokens)
        // Scoring reuses prefixes too, with the same numbers.
        let s1 = try await score(e, ScoreRequest(model: "tiny", input: .tokens(longer))).get()
        let s2 = try await score(fresh, ScoreRequest(model: "tiny", input: .tokens(longer))).get()
        #expect(zip(s1.logprobs, s2.logprobs).allSatisfy { ($0 == nil && $1 == nil) || abs($0! - $1!) < 1e-5 })
        await e.shutdown(drain: true); await fresh.shutdown(drain: true)
    }

    @Test func topLogprobsAndModes() async throws {
        let e = try makeEngine()
        let res = try await generate(e, request(.text("The dog"), max: 6) { $0.advanced.topLogprobs = 4 }).get()
        let tops = try #require(res.topLogprobs)
        let lps = try #require(res.logprobs)
        #expect(tops.count == 6 && lps.count == 6)
        for (i, t) in tops.enumerated() {
            #expect(t.count == 4 && t[0].token == res.tokens[i])  // greedy picks the most likely raw token
            #expect(abs(t[0].logprob! - lps[i]!) < 1e-9)
            #expect(zip(t, t.dropFirst()).allSatisfy { $0.logprob! >= $1.logprob! })
        }
        // Processed mode with top_k 1 sampling: the chosen token has probability 1.
        let p = try await generate(e, request(.text("The dog"), max: 3) {
            $0.doSample = true; $0.topK = 1; $0.seed = 1; $0.logprobs = true; $0.advanced.logprobsMode = .processed
        }).get()
        #expect(p.logprobs!.allSatisfy { abs($0!) < 1e-9 })
        await e.shutdown(drain: true)
    }

    @Test func processorsReachedThroughRequestFields() async throws {
        let e = try makeEngine()
        let plain = try await generate(e, request(.text("The dog"), max: 16)).get()
        // suppress_tokens removes greedy's first choice.
        let sup = try await generate(e, request(.text("The dog"), max: 4) { $0.advanced.suppressTokens = [plain.tokens[0]] }).get()
        #expect(sup.tokens[0] != plain.tokens[0] && !sup.tokens.contains(plain.tokens[0]))
        // no_repeat_ngram_size 2: no bigram of prompt + output repeats.
        let nr = try await generate(e, request(.text("The dog"), max: 24) { $0.advanced.noRepeatNGramSize = 2 }).get()
        let all = [464, 3290] + nr.tokens
        let bigrams = zip(all, all.dropFirst()).map { "\($0),\($1)" }
        #expect(Set(bigrams).count == bigrams.count)
        // logit_bias +100 on one token makes greedy choose it every step; with the EOS that is a stop.
        let biased = try await generate(e, request(.text("The dog"), max: 5) { $0.advanced.logitBias = [13: 100] }).get()
        #expect(biased.tokens == [13, 13, 13, 13, 13])
        let eos = try await generate(e, request(.text("The dog"), max: 5) { $0.advanced.logitBias = [50256: 100] }).get()
        #expect(eos.tokens == [50256] && eos.finishReason == .eos && eos.text == "")
        let ignore = try await generate(e, request(.text("The dog"), max: 5) { $0.advanced.logitBias = [50256: 100]; $0.advanced.ignoreEOS = true }).get()
        #expect(ignore.tokens == [Int](repeating: 50256, count: 5) && ignore.finishReason == .length)
        let minNew = try await generate(e, request(.text("The dog"), max: 5) { $0.advanced.logitBias = [50256: 100]; $0.advanced.minNewTokens = 3 }).get()
        #expect(minNew.tokens.count == 4 && minNew.tokens.last == 50256 && !minNew.tokens.dropLast().contains(50256))
        // Ids outside the vocabulary are refused with the field named.
        let bad = await generate(e, request(.text("x")) { $0.advanced.suppressTokens = [60000] })
        if case .failure(let err) = bad { #expect(err.code == .invalidField && err.field == "suppress_tokens") } else { Issue.record("expected invalid_field") }
        await e.shutdown(drain: true)
    }

    @Test func stopStringCanBeKept() async throws {
        let e = try makeEngine()
        let free = try await generate(e, request(.text("The dog"), max: 20)).get()
        let tok = e.model(named: "tiny")!.tokenizer
        let stop = tok.decode([free.tokens[5]])
        let kept = try await generate(e, request(.text("The dog"), max: 20) { $0.stop = [stop]; $0.advanced.includeStopStrInOutput = true }).get()
        let cut = try #require(free.text.range(of: stop))
        #expect(kept.finishReason == .stop && kept.text == String(free.text[..<cut.upperBound]))
        await e.shutdown(drain: true)
    }
}

@Suite struct HiddenStateJobTests {
    @Test func hiddenStatesMatchTransformersAndBatch() async throws {
        let g = try SafeTensorsFile.open(path: Fixtures.model("tiny-gpt2") + "/golden.safetensors")
        let ids = try (0..<3).map { try g.int64s("input_ids.\($0)").map { Int32($0) } }
        let want = try (0..<3).map { try g.floats("hidden.\($0)") }
        let e = try makeEngine(maxBatchTokens: 8)  // forces chunked prompts
        let seqs = [HiddenSequence(tokens: ids[0], rows: .all), HiddenSequence(tokens: ids[1], rows: .last),
                    HiddenSequence(tokens: ids[2], rows: .all)]
        let got: [[Float]] = try await withCheckedThrowingContinuation { c in
            e.hiddenStates(model: "tiny", sequences: seqs, key: JobKey(connection: 1, id: nil), client: alice, costField: "texts") { c.resume(with: $0) }
        }
        let C = 32
        #expect(got[0].count == ids[0].count * C && got[1].count == C && got[2].count == ids[2].count * C)
        #expect(zip(got[0], want[0]).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(got[1], want[1].suffix(C)).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(got[2], want[2]).allSatisfy { abs($0 - $1) < 1e-4 })
        let bad: Result<[[Float]], EngineError> = await withCheckedContinuation { c in
            e.hiddenStates(model: "tiny", sequences: [HiddenSequence(tokens: [Int32](repeating: 1, count: 200), rows: .last)],
                           key: JobKey(connection: 1, id: nil), client: alice, costField: "texts") { c.resume(returning: $0) }
        }
        if case .failure(let err) = bad { #expect(err.code == .contextOverflow) } else { Issue.record("expected context_overflow") }
        await e.shutdown(drain: true)
    }

    /// A request whose windows together need more forward rows than max_request_rows is refused
    /// before anything is queued (too_large, naming the input); one at the limit runs.
    @Test func aRequestsTotalRowsAreBoundedBeforeCompute() async throws {
        let e = try makeEngine(maxRequestRows: 40)
        let windows = (0..<5).map { _ in HiddenSequence(tokens: [Int32](repeating: 7, count: 8), rows: .last) }  // 40 rows
        let ok: Result<[[Float]], EngineError> = await withCheckedContinuation { c in
            e.hiddenStates(model: "tiny", sequences: windows, key: JobKey(connection: 1, id: nil), client: alice,
                           costField: "text") { c.resume(returning: $0) }
        }
        if case .success(let rows) = ok { #expect(rows.count == 5) } else { Issue.record("40 rows should run: \(ok)") }
        let before = e.stats().forwardPasses
        let big: Result<[[Float]], EngineError> = await withCheckedContinuation { c in
            e.hiddenStates(model: "tiny", sequences: windows + [windows[0]], key: JobKey(connection: 1, id: nil),
                           client: alice, costField: "stride") { c.resume(returning: $0) }
        }
        guard case .failure(let err) = big else { Issue.record("48 rows should be refused"); return }
        #expect(err.code == .tooLarge && err.field == "stride")
        #expect(err.message.contains("48 forward rows") && err.message.contains("max_request_rows"))
        #expect(e.stats().forwardPasses == before, "nothing was computed for the refused request")
        #expect(WireError(err).code.rawValue == "too_large")
        await e.shutdown(drain: true)
    }
}

@Suite struct SessionPrefixReuseTests {
    @Test func aSessionlessRequestReusesTheUsersIdleSessionCache() async throws {
        let e = try makeEngine()
        let fresh = try makeEngine()
        let s = try e.sessions.open(model: "tiny", owner: alice.principal)
        let prompt = Array((0..<30).map { 2000 + $0 * 11 })
        let first = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), session: s.id, maxNewTokens: 5)).get()
        // A different request (no session) that starts with the session's history.
        let history = prompt + first.tokens
        let probe = history + [13, 198]
        let r = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(probe), maxNewTokens: 6)).get()
        #expect(r.usage.cachedTokens == history.count - 1)  // the session's last token was never computed
        let ref = try await generate(fresh, GenerateRequest(model: "tiny", input: .tokens(probe), maxNewTokens: 6)).get()
        #expect(r.tokens == ref.tokens)
        // The session itself is untouched and still continues as before.
        #expect(try e.sessions.info(s.id, owner: alice.principal).tokenCount == history.count)
        let other = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(probe), maxNewTokens: 6), client: bob).get()
        #expect(other.usage.cachedTokens == 0)
        await e.shutdown(drain: true); await fresh.shutdown(drain: true)
    }
}

@Suite struct SequenceGroupFailureTests {
    /// n = 3 where the budget holds the prompt once but not a fork: the request fails once with
    /// `overloaded`, and no member of the group is left registered or holding memory.
    @Test func followersThatCannotForkEndTheWholeGroup() async throws {
        let cfg = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2")).config
        let block = KVBlockPool(config: cfg, blockTokens: 8).bytesPerBlock
        let e = try makeEngine(kvBytes: block * 4, blockTokens: 8)
        let prompt = Array((0..<20).map { 3000 + $0 })  // 3 blocks; a fork needs 3 more
        // A first request leaves the prompt in the prefix cache, so the group must evict it first.
        _ = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 4)).get()
        var req = GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 4, doSample: true, seed: 5)
        req.advanced.numReturnSequences = 3
        let g = await generate(e, req, id: 2)
        guard case .failure(let err) = g else { Issue.record("expected overloaded, got \(g)"); return }
        #expect(err.code == .overloaded)
        try await Task.sleep(nanoseconds: 200_000_000)
        func liveJobs() -> Int { e.cond.lock(); defer { e.cond.unlock() }; return e.liveJobs.count }
        #expect(liveJobs() == 0)
        #expect(e.stats().requestsActive == 0)
        await e.shutdown(drain: true)
    }
}
