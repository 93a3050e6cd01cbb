// The output stage (Engine/Output): a generation's text is made off the compute thread, and a stop
// string found there — late, after the engine computed more tokens — ends the sequence exactly where
// a check on the compute thread would have: the extra tokens never reach the client, the counts,
// the session or the prompt cache. Expected outputs are derived from stop-less runs (the text cut at
// the stop string's first occurrence), not from the code under test.
import Foundation
import Testing
import GPT2Tokenizer
import GPT2TestSupport
import GPT2Wire
@testable import GPT2Daemon

@Suite struct OutputStageTests {
    static let prompt = "The dog ran across the wide green field and"

    /// A greedy request of 30 tokens that only the length (or a stop string) ends.
    static func greedy(_ input: PromptInput = .text(prompt), session: String? = nil, stop: [String] = [], stream: Bool = false) -> GenerateRequest {
        var r = GenerateRequest(model: "tiny", input: input, session: session, maxNewTokens: 30, stop: stop, stream: stream)
        r.advanced.ignoreEOS = true
        return r
    }

    /// How many of `tokens` a stop at `stop` keeps: the shortest prefix whose text contains it
    /// (nil: the text never contains it).
    static func kept(_ tokens: [Int], stop: String, _ tok: GPT2Tokenizer) -> Int? {
        (1...tokens.count).first { tok.decode(Array(tokens.prefix($0))).contains(stop) }
    }

    /// A stop string spanning the boundary between generated tokens 3 and 4 of `tokens`.
    static func spanningStop(_ tokens: [Int], _ tok: GPT2Tokenizer) -> String {
        let a = tok.decode([tokens[3]]), b = tok.decode([tokens[4]])
        return String(a.suffix(max(1, a.count / 2))) + String(b.prefix(max(1, b.count / 2)))
    }

    /// Holds the output stage at each streamed sequence's first token until `engine` has run
    /// `passes` more forward passes (10 s at most): whatever the stage finds, it finds late.
    static func holdFirstToken(_ log: EventLog, engine: Engine, passes: Int) {
        let target = engine.stats().forwardPasses + passes
        log.onToken = { t in
            guard t.index == 0 else { return }
            let deadline = TestTimeScale.deadline(10)
            while engine.stats().forwardPasses < target && Date() < deadline { usleep(500) }
        }
    }

    @Test func aLateStopStringEndsTheSequenceWhereAnEarlyCheckWould() async throws {
        let ref = try makeEngine(), e = try makeEngine()
        let tok = e.model(named: "tiny")!.tokenizer
        let ids = tok.encode(Self.prompt)
        let free = try await generate(ref, Self.greedy()).get()
        let stop = Self.spanningStop(free.tokens, tok)
        let k = try #require(Self.kept(free.tokens, stop: stop, tok))
        let log = EventLog()
        Self.holdFirstToken(log, engine: e, passes: free.tokens.count)
        let r = try await generate(e, Self.greedy(stop: [stop], stream: true), log: log).get()
        // The engine ran on to max_new_tokens (one pass per token) before the stage saw the stop.
        #expect(e.stats().forwardPasses == free.tokens.count && k < free.tokens.count)
        #expect(r.finishReason == .stop && r.tokens == Array(free.tokens.prefix(k)) && r.usage.completionTokens == k)
        let cut = try #require(free.text.range(of: stop))
        #expect(r.text == String(free.text[..<cut.lowerBound]))
        #expect(log.streamed.map(\.index) == Array(0..<k) && log.streamed.map(\.token) == r.tokens)
        #expect(log.streamed.map(\.text).joined() == r.text)
        #expect(e.stats().completionTokensTotal == k)
        // The prompt cache holds what a stop on the compute thread left: the prompt and the kept
        // tokens but the last (whose K/V was never computed) — not the positions computed after.
        let next = ids + r.tokens + [13]
        let reused = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(next), maxNewTokens: 5)).get()
        #expect(reused.usage.cachedTokens == ids.count + k - 1)
        #expect(reused.tokens == (try await generate(ref, GenerateRequest(model: "tiny", input: .tokens(next), maxNewTokens: 5)).get().tokens))
        await e.shutdown(drain: true); await ref.shutdown(drain: true)
    }

    @Test func aLateStopStringLeavesTheSessionAtTheStop() async throws {
        let ref = try makeEngine(), e = try makeEngine()
        let tok = e.model(named: "tiny")!.tokenizer
        let ids = tok.encode(Self.prompt)
        let free = try await generate(ref, Self.greedy()).get()
        let stop = Self.spanningStop(free.tokens, tok)
        let k = try #require(Self.kept(free.tokens, stop: stop, tok))
        let s = try e.sessions.open(model: "tiny", owner: alice.principal)
        let log = EventLog()
        Self.holdFirstToken(log, engine: e, passes: free.tokens.count)
        let r = try await generate(e, Self.greedy(session: s.id, stop: [stop], stream: true), log: log).get()
        #expect(e.stats().forwardPasses == free.tokens.count)
        #expect(r.finishReason == .stop && r.tokens == Array(free.tokens.prefix(k)))
        // PROTOCOL.md: the session keeps the tokens up to the stop (the one that completed it included).
        #expect(try e.sessions.info(s.id, owner: alice.principal).tokenCount == ids.count + k)
        let more = [11, 290, 262]
        let second = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(more), session: s.id, maxNewTokens: 6)).get()
        #expect(second.usage.cachedTokens == ids.count + k - 1)
        let single = try await generate(ref, GenerateRequest(model: "tiny", input: .tokens(ids + r.tokens + more), maxNewTokens: 6)).get()
        #expect(second.tokens == single.tokens)
        await e.shutdown(drain: true); await ref.shutdown(drain: true)
    }

    @Test func lateStopStringsInAGroupAreEachSequencesOwn() async throws {
        let ref = try makeEngine(), e = try makeEngine()
        let tok = e.model(named: "tiny")!.tokenizer
        func sampled(seed: UInt64, stop: [String] = [], n: Int = 1, stream: Bool = false) -> GenerateRequest {
            var r = GenerateRequest(model: "tiny", input: .text(Self.prompt), maxNewTokens: 20, doSample: true, temperature: 0.9,
                                    seed: seed, stop: stop, stream: stream)
            r.advanced.numReturnSequences = n
            r.advanced.ignoreEOS = true
            return r
        }
        // Sequence i of the group is the single request with seed 5 + i; without stops, here:
        let free = [try await generate(ref, sampled(seed: 5)).get(), try await generate(ref, sampled(seed: 6)).get()]
        let stop = Self.spanningStop(free[0].tokens, tok)
        let log = EventLog()
        Self.holdFirstToken(log, engine: e, passes: free.map(\.tokens.count).max()!)
        let r = try await generate(e, sampled(seed: 5, stop: [stop], n: 2, stream: true), log: log).get()
        let sequences = try #require(r.sequences)
        #expect(sequences.count == 2)
        var total = 0
        for (i, f) in free.enumerated() {
            let k = Self.kept(f.tokens, stop: stop, tok) ?? f.tokens.count
            let text = f.text.range(of: stop).map { String(f.text[..<$0.lowerBound]) } ?? f.text
            #expect(sequences[i].tokens == Array(f.tokens.prefix(k)), "sequence \(i)")
            #expect(sequences[i].text == text && sequences[i].finishReason == (f.text.contains(stop) ? .stop : f.finishReason), "sequence \(i)")
            let streamed = log.streamed.filter { $0.sequence == i }
            #expect(streamed.map(\.token) == sequences[i].tokens && streamed.map(\.text).joined() == text, "sequence \(i)")
            total += k
        }
        #expect(r.usage.completionTokens == total)
        await e.shutdown(drain: true); await ref.shutdown(drain: true)
    }

    @Test func stopStringsWithoutStreamingCutTheSameText() async throws {
        let e = try makeEngine()
        let tok = e.model(named: "tiny")!.tokenizer
        let free = try await generate(e, Self.greedy()).get()
        let stop = Self.spanningStop(free.tokens, tok)
        let k = try #require(Self.kept(free.tokens, stop: stop, tok))
        let r = try await generate(e, Self.greedy(stop: [stop])).get()
        let cut = try #require(free.text.range(of: stop))
        #expect(r.finishReason == .stop && r.tokens == Array(free.tokens.prefix(k)) && r.text == String(free.text[..<cut.lowerBound]))
        // A stop string that never appears: the sequence waits for the stage's last check, then ends as without it.
        let none = try await generate(e, Self.greedy(stop: ["\u{1F600}never"])).get()
        #expect(none.tokens == free.tokens && none.text == free.text && none.finishReason == free.finishReason)
        await e.shutdown(drain: true)
    }

    @Test func detokenizationNeverRunsOnTheComputeThread() async throws {
        let e = try makeEngine()
        let tok = e.model(named: "tiny")!.tokenizer
        let before = TextWorkProbe.counts
        let onCompute = Locked(0)
        let log = EventLog()
        log.onToken = { _ in if ComputeThread.isCurrent { onCompute.withLock { $0 += 1 } } }
        let streamed = try await generate(e, Self.greedy(stop: ["\u{1F600}never"], stream: true), log: log).get()
        #expect(streamed.tokens.count == 30)
        let stop = tok.decode([streamed.tokens[6]])
        let plain = try await generate(e, GenerateRequest(model: "tiny", input: .text(Self.prompt), maxNewTokens: 12, stop: [stop])).get()
        var group = GenerateRequest(model: "tiny", input: .text(Self.prompt), maxNewTokens: 8, doSample: true, seed: 3)
        group.advanced.numReturnSequences = 2
        let g = try await generate(e, group).get()
        var beams = GenerateRequest(model: "tiny", input: .text(Self.prompt), maxNewTokens: 8, stop: [stop])
        beams.advanced.numBeams = 2
        _ = try await generate(e, beams).get()
        let after = TextWorkProbe.counts
        // Every kept token but an EOS was detokenized by an output stage (the beam result once), none on a compute thread.
        let texted = (streamed.tokens + plain.tokens + (g.sequences ?? []).flatMap(\.tokens)).filter { $0 != 50256 }.count + 1
        #expect(after.total - before.total >= texted)
        #expect(after.onComputeThread == 0)
        #expect(onCompute.withLock { $0 } == 0 && log.streamed.count == streamed.tokens.count)
        await e.shutdown(drain: true)
    }
}
