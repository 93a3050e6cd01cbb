// The engine in-process on the tiny-gpt2 fixture (real GPT-2 vocabulary, random weights):
// transformers parity for greedy and scoring, sessions, eviction, stops, streaming, cancellation,
// seeded sampling inside busy batches, and every engine-side error.
import Foundation
import Testing
import GPT2Core
import GPT2Wire
import GPT2TestSupport
@testable import GPT2Daemon

/// An engine over the tiny-gpt2 fixture, named "tiny".
func makeEngine(kvBytes: Int? = nil, blockTokens: Int = 8, maxBatchTokens: Int = 64,
                maxRequestRows: Int = EngineOptions().maxRequestRows) throws -> Engine {
    var o = EngineOptions()
    o.maxRequestRows = maxRequestRows
    o.threads = TestThreads.count  // one pool size for the whole run (GPT2TestSupport/TestThreads.swift)
    o.sessionIdleTimeout = 86400  // see DaemonHarness.config: the suite's tests all run at once
    o.kvCacheBytes = kvBytes
    o.kvBlockTokens = blockTokens
    o.maxBatchTokens = maxBatchTokens
    o.maxSessionsPerUser = o.maxSessions  // the tests' requests are one principal's (see DaemonHarness.config)
    let budget = KVMemoryBudget(limitBytes: kvBytes)
    let m = try ServedModel.load(name: "tiny", directory: Fixtures.model("tiny-gpt2"), budget: budget, blockTokens: blockTokens)
    let e = Engine(models: [m], options: o)
    e.start()
    return e
}

/// Collects a generation's events until its final line, mapped to the wire's values as a listener
/// maps them (Mapping/), so the tests below check what a client would see.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: [TokenEvent] = []
    private var continuation: CheckedContinuation<Result<GenerateResponse, WireError>, Never>?
    private var final: Result<GenerateResponse, WireError>?
    var onToken: (@Sendable (TokenEvent) -> Void)?

    var streamed: [TokenEvent] { lock.lock(); defer { lock.unlock() }; return tokens }

    func handle(_ e: EngineEvent) {
        lock.lock()
        switch e {
        case .token(let engineToken):
            let t = TokenEvent(engineToken)
            tokens.append(t); lock.unlock(); onToken?(t); return
        case .result(let r): final = .success(GenerateResponse(r))
        case .error(let err): final = .failure(WireError(err))
        }
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume(returning: final!)
    }

    func wait() async -> Result<GenerateResponse, WireError> {
        await withCheckedContinuation { c in
            lock.lock()
            if let f = final { lock.unlock(); c.resume(returning: f); return }
            continuation = c
            lock.unlock()
        }
    }
}

let alice = ClientIdentity(uid: 1000, pid: 1, connection: 1)
let bob = ClientIdentity(uid: 1001, pid: 2, connection: 2)

func generate(_ e: Engine, _ r: GenerateRequest, id: Int64 = 1, client: ClientIdentity = alice, log: EventLog = EventLog()) async -> Result<GenerateResponse, WireError> {
    e.generate(GenerationRequest(r), key: JobKey(connection: client.connection, id: .int(id)), client: client) { log.handle($0) }
    return await log.wait()
}

func score(_ e: Engine, _ r: ScoreRequest, client: ClientIdentity = alice) async -> Result<ScoreResponse, WireError> {
    await withCheckedContinuation { c in
        e.score(ScoringRequest(r), key: JobKey(connection: client.connection, id: nil), client: client) {
            c.resume(returning: $0.map(ScoreResponse.init).mapError(WireError.init))
        }
    }
}

private func golden() throws -> SafeTensorsFile {
    try SafeTensorsFile.open(path: Fixtures.model("tiny-gpt2") + "/golden.safetensors")
}

@Suite struct EngineTests {
    @Test func greedyEqualsTransformersGenerate() async throws {
        let g = try golden()
        let prompt = try g.int64s("greedy.prompt").map(Int.init), want = try g.int64s("greedy.output").map(Int.init)
        let e = try makeEngine()
        let r = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 64)).get()
        #expect(r.tokens == Array(want[prompt.count...]))
        #expect(r.finishReason == .length)
        #expect(r.usage.promptTokens == prompt.count && r.usage.completionTokens == 64 && r.usage.cachedTokens == 0)
        await e.shutdown(drain: true)
    }

    @Test func scoreEqualsLogSoftmaxOfTransformersLogits() async throws {
        let g = try golden()
        let ids = try g.int64s("input_ids.0").map(Int.init), logits = try g.floats("logits.0")
        let V = 50257
        let e = try makeEngine()
        let r = try await score(e, ScoreRequest(model: "tiny", input: .tokens(ids), topLogprobs: 3)).get()
        #expect(r.tokens == ids)
        #expect(r.logprobs.count == ids.count && r.logprobs[0] == nil)
        var nll = 0.0
        for t in 1..<ids.count {
            let row = Array(logits[((t - 1) * V)..<(t * V)])
            let want = Sampling.logSoftmax(row, at: ids[t])
            let got = try #require(r.logprobs[t])
            #expect(abs(got - want) < 1e-4, "token \(t)")
            nll -= want
            let top = try #require(r.topLogprobs?[t])
            #expect(top.count == 3 && top[0].token == Sampling.argmax(row))
        }
        let ppl = exp(nll / Double(ids.count - 1))
        #expect(abs(try #require(r.perplexity) - ppl) / ppl < 1e-4)
        await e.shutdown(drain: true)
    }

    @Test func streamedTextConcatenatesToFinalText() async throws {
        let e = try makeEngine()
        let log = EventLog()
        let r = try await generate(e, GenerateRequest(model: "tiny", input: .text("Hello, I'm a language model"), maxNewTokens: 40, stream: true, logprobs: true), log: log).get()
        let events = log.streamed
        #expect(events.count == 40)
        #expect(events.map(\.text).joined() == r.text)
        #expect(events.map(\.token) == r.tokens)
        #expect(events.map(\.index) == Array(0..<40))
        #expect(events.allSatisfy { ($0.logprob ?? 1) <= 0 } && r.logprobs?.count == 40)
        let plain = try await generate(e, GenerateRequest(model: "tiny", input: .text("Hello, I'm a language model"), maxNewTokens: 40)).get()
        #expect(plain.text == r.text && plain.tokens == r.tokens)
        await e.shutdown(drain: true)
    }

    @Test func sessionContinuationEqualsOneRequest() async throws {
        let e = try makeEngine()
        let s = try e.sessions.open(model: "tiny", owner: alice.principal)
        let first = try await generate(e, GenerateRequest(model: "tiny", input: .text("The dog"), session: s.id, maxNewTokens: 6)).get()
        let more = [11, 290, 262]  // ",", " and", " the"
        let second = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(more), session: s.id, maxNewTokens: 6)).get()
        #expect(second.usage.cachedTokens > 0)
        #expect(second.usage.cachedTokens == 2 + 6 - 1)  // history minus the last token, whose K/V was never computed
        let whole = [464, 3290] + first.tokens + more
        let single = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(whole), maxNewTokens: 6)).get()
        #expect(single.tokens == second.tokens)
        #expect(try e.sessions.info(s.id, owner: alice.principal).tokenCount == whole.count + 6)
        // Scoring continues a session too: the first new token is conditioned on the history.
        let sc = try await score(e, ScoreRequest(model: "tiny", input: .tokens([13]), session: s.id)).get()
        let ref = try await score(e, ScoreRequest(model: "tiny", input: .tokens(whole + second.tokens + [13]))).get()
        #expect(sc.logprobs.count == 1 && abs(sc.logprobs[0]! - ref.logprobs.last!!) < 1e-5)
        await e.shutdown(drain: true)
    }

    @Test func tinyKVBudgetEvictsIdleCachesAndResultsStayIdentical() async throws {
        let probe = KVBlockPool(config: try GPT2Model.load(directory: Fixtures.model("tiny-gpt2")).config, blockTokens: 8)
        let e = try makeEngine(kvBytes: probe.bytesPerBlock * 5)  // 40 positions in all
        let ref = try makeEngine()
        let s1 = try e.sessions.open(model: "tiny", owner: alice.principal), s2 = try e.sessions.open(model: "tiny", owner: alice.principal)
        let r1 = try ref.sessions.open(model: "tiny", owner: alice.principal), r2 = try ref.sessions.open(model: "tiny", owner: alice.principal)
        for (i, text) in ["The dog", " ran away", " and then", " it came back"].enumerated() {
            for (a, b) in [(s1, r1), (s2, r2)] {
                let x = try await generate(e, GenerateRequest(model: "tiny", input: .text(text), session: a.id, maxNewTokens: 4)).get()
                let y = try await generate(ref, GenerateRequest(model: "tiny", input: .text(text), session: b.id, maxNewTokens: 4)).get()
                #expect(x.tokens == y.tokens, "turn \(i)")
            }
        }
        #expect(e.stats().kvBytesInUse <= probe.bytesPerBlock * 5)
        // A request that can never fit gets a clear error, and the engine keeps serving.
        let big = await generate(e, GenerateRequest(model: "tiny", input: .tokens([Int](repeating: 464, count: 60)), maxNewTokens: 1))
        #expect(throws: WireError.self) { try big.get() }
        if case .failure(let err) = big { #expect(err.code == .overloaded) }
        _ = try await generate(e, GenerateRequest(model: "tiny", input: .text("ok"), maxNewTokens: 2)).get()
        await e.shutdown(drain: true); await ref.shutdown(drain: true)
    }

    @Test func stopStringsEndTextAcrossTokenBoundaries() async throws {
        let e = try makeEngine()
        let free = try await generate(e, GenerateRequest(model: "tiny", input: .text("The dog"), maxNewTokens: 30)).get()
        // A stop string spanning the boundary between generated tokens 3 and 4.
        let tok = e.model(named: "tiny")!.tokenizer
        let a = tok.decode([free.tokens[3]]), b = tok.decode([free.tokens[4]])
        let stop = String(a.suffix(max(1, a.count / 2))) + String(b.prefix(max(1, b.count / 2)))
        let log = EventLog()
        let r = try await generate(e, GenerateRequest(model: "tiny", input: .text("The dog"), maxNewTokens: 30, stop: [stop], stream: true), log: log).get()
        #expect(r.finishReason == .stop)
        let cut = try #require(free.text.range(of: stop))
        #expect(r.text == String(free.text[..<cut.lowerBound]))
        #expect(log.streamed.map(\.text).joined() == r.text)
        await e.shutdown(drain: true)
    }

    @Test func seededSamplingIsReproducibleInsideBusyBatches() async throws {
        let e = try makeEngine()
        let req = GenerateRequest(model: "tiny", input: .text("Once upon a time"), maxNewTokens: 24, doSample: true,
                                  temperature: 0.9, topK: 40, topP: 0.95, repetitionPenalty: 1.1, seed: 42)
        let alone = try await generate(e, req).get()
        // The same request among 12 others of different lengths and seeds.
        let results = await withTaskGroup(of: (Int, [Int]).self) { group in
            for i in 0..<12 {
                group.addTask {
                    var r = req
                    if i != 5 { r.seed = UInt64(i); r.input = .text(String(repeating: "word ", count: i + 1)) }
                    return (i, (try? await generate(e, r, id: Int64(i)).get().tokens) ?? [])
                }
            }
            var out: [Int: [Int]] = [:]
            for await (i, t) in group { out[i] = t }
            return out
        }
        #expect(results[5] == alone.tokens)
        #expect(Set(results.values.map { $0 }).count > 1)
        var other = req; other.seed = 7
        #expect(try await generate(e, other).get().tokens != alone.tokens)
        await e.shutdown(drain: true)
    }

    @Test func concurrentRequestsEqualEachAlone() async throws {
        let e = try makeEngine(maxBatchTokens: 48)
        let prompts = (0..<16).map { "Prompt number \($0) says" + String(repeating: " more", count: $0) }
        var alone: [[Int]] = []
        let passesBefore = e.stats().forwardPasses
        for p in prompts { alone.append(try await generate(e, GenerateRequest(model: "tiny", input: .text(p), maxNewTokens: 12)).get().tokens) }
        let passesAlone = e.stats().forwardPasses - passesBefore
        let together = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (i, p) in prompts.enumerated() {
                group.addTask { (i, (try? await generate(e, GenerateRequest(model: "tiny", input: .text(p), maxNewTokens: 12), id: Int64(i)).get().tokens) ?? []) }
            }
            var out = [[Int]](repeating: [], count: prompts.count)
            for await (i, t) in group { out[i] = t }
            return out
        }
        #expect(together == alone)
        let passesTogether = e.stats().forwardPasses - passesBefore - passesAlone
        #expect(passesAlone >= 16 * 12)
        // Batched: requests that arrive together share passes (at most a few more than one request's 12).
        #expect(passesTogether < passesAlone / 4, "\(passesTogether) passes together vs \(passesAlone) alone")
        await e.shutdown(drain: true)
    }

    @Test func cancelStopsWithinAStepAndFreesMemory() async throws {
        // A KV budget of exactly one full context (128 positions): whatever the cancelled job leaves
        // behind must be given back before a request that needs all of it can run.
        let probe = try makeEngine()
        let bytesPerToken = probe.stats().kvBytesPerToken
        await probe.shutdown(drain: true)
        let e = try makeEngine(kvBytes: 128 * bytesPerToken)
        let log = EventLog()
        let cancelled = NSLock()
        nonisolated(unsafe) var sent = false
        nonisolated(unsafe) var passesAtCancel = 0
        log.onToken = { t in
            cancelled.lock(); defer { cancelled.unlock() }
            if t.index == 2 && !sent {
                sent = true
                passesAtCancel = e.stats().forwardPasses
                _ = e.cancel(JobKey(connection: alice.connection, id: .int(9)))
            }
        }
        let r = await generate(e, GenerateRequest(model: "tiny", input: .text("The dog"), maxNewTokens: 100, stream: true), id: 9, log: log)
        guard case .failure(let err) = r else { Issue.record("expected cancelled"); return }
        #expect(err.code == .cancelled)
        // Within one step: at most the pass that was running when the cancel arrived completes after it
        // (tokens are delivered off the compute thread, so the streamed count may trail the passes).
        let passesAfterCancel = e.stats().forwardPasses - cancelled.withLock { passesAtCancel }
        #expect(passesAfterCancel <= 1, "\(passesAfterCancel) forward passes after the cancel")
        #expect(log.streamed.count < 100)
        #expect(e.stats().requestsActive == 0)
        // Its cache is freed, or — when its context reached the prefix cache's minimum before the
        // cancel landed (tokens stream off the compute thread, so the job may be a few tokens ahead)
        // — kept only as an evictable cached prefix: a request needing the whole budget still runs.
        let full = await generate(e, GenerateRequest(model: "tiny", input: .tokens([Int](repeating: 464, count: 120)), maxNewTokens: 8))
        #expect((try? full.get().tokens.count) == 8, "\(full)")
        // Disconnect: every job of the connection ends.
        let l2 = EventLog()
        l2.onToken = { t in if t.index == 1 { e.cancelAll(connection: bob.connection) } }
        let r2 = await generate(e, GenerateRequest(model: "tiny", input: .text("A"), maxNewTokens: 100, stream: true), client: bob, log: l2)
        if case .failure(let err2) = r2 { #expect(err2.code == .cancelled) } else { Issue.record("expected cancelled") }
        await e.shutdown(drain: true)
    }

    @Test func engineErrorsHaveStableCodes() async throws {
        let e = try makeEngine()
        func code(_ r: GenerateRequest, _ who: ClientIdentity = alice) async -> WireErrorCode? {
            if case .failure(let err) = await generate(e, r, client: who) { return err.code }
            return nil
        }
        #expect(await code(GenerateRequest(model: "nope", input: .text("x"))) == .unknownModel)
        #expect(await code(GenerateRequest(model: "tiny", input: .tokens([50257]))) == .invalidField)
        #expect(await code(GenerateRequest(model: "tiny", input: .tokens([Int](repeating: 1, count: 129)))) == .contextOverflow)
        #expect(await code(GenerateRequest(model: "tiny", input: .tokens([1, 2]), maxNewTokens: 127)) == .contextOverflow)
        #expect(await code(GenerateRequest(model: "tiny", input: .text("x"), session: "s-missing")) == .unknownSession)
        let s = try e.sessions.open(model: "tiny", owner: alice.principal)
        #expect(await code(GenerateRequest(model: "tiny", input: .text("x"), session: s.id), bob) == .sessionForbidden)
        #expect(throws: EngineError.self) { try e.sessions.close(s.id, owner: bob.principal) }
        #expect(e.sessions.list(owner: bob.principal).isEmpty && e.sessions.list(owner: alice.principal).count == 1)
        // Default max_new_tokens is capped to the context that is left.
        let r = try await generate(e, GenerateRequest(model: "tiny", input: .tokens([Int](repeating: 464, count: 120)))).get()
        #expect(r.tokens.count == 8 && r.finishReason == .length)
        await e.shutdown(drain: true)
        #expect(await code(GenerateRequest(model: "tiny", input: .text("x"))) == .shuttingDown)
    }
}
