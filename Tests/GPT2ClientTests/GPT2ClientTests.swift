// GPT2Client against the real gpt2d (a child process serving tiny-gpt2; see DaemonProcess.swift).

import Foundation
import GPT2Client
import GPT2Wire
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let model = DaemonProcess.model

/// A prompt from which greedy decoding runs 64+ tokens without <|endoftext|> (the fixture's golden),
/// long enough (tens of milliseconds) for a cancel to arrive mid-generation.
private let longPrompt: [Int] = (try? readInt64Tensors(Paths.tinyModel + "/golden.safetensors")["greedy.prompt"]) ?? [464]
private let longRun = 64

/// Expects `body` to throw `GPT2ClientError.daemon` with `code`; returns the error.
@discardableResult
func expectDaemonError<T>(_ code: WireErrorCode, _ body: () async throws -> T,
                                  sourceLocation: SourceLocation = #_sourceLocation) async -> WireError? {
    do {
        _ = try await body()
        Issue.record("expected \(code.rawValue), got a result", sourceLocation: sourceLocation)
    } catch let GPT2ClientError.daemon(e) {
        #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite("GPT2Client against gpt2d", .serialized)
struct GPT2ClientDaemonTests {
    @Test func healthModelsStats() async throws {
        try await withDaemon { d in
            let c = d.client()
            let h = try await c.health()
            #expect(h.status == "ok")
            #expect(h.protocolVersion == ProtocolVersion.current)
            #expect(h.uptimeSeconds >= 0)

            let m = try await c.models()
            #expect(m.models.map(\.name) == [model])
            let info = try #require(m.models.first)
            #expect(info.architecture == "GPT2LMHeadModel")
            #expect((info.nLayer, info.nEmbd, info.nHead, info.nPositions, info.vocabSize) == (2, 32, 4, 128, 50257))
            #expect(info.dtype == "float32")
            #expect(info.tasks.contains("generate") && info.tasks.contains("score"))

            let s = try await c.stats()
            #expect(s.connections >= 1)
            #expect(s.requestsTotal >= 2)
            #expect(s.requestsActive >= 0)

            let metrics = try await c.metrics()
            #expect(metrics.contentType == "text/plain; version=0.0.4; charset=utf-8")
            #expect(metrics.text.contains("\ngpt2d_requests_total{listener=\"jsonl\",op=\"stats\",outcome=\"ok\"} 1\n"))
            await c.close()
        }
    }

    @Test func tokenizeDetokenizeRoundTrip() async throws {
        try await withDaemon { d in
            let c = d.client()
            let t = try await c.tokenize(model: model, text: "Hello world")
            #expect(t.tokens == [15496, 995])
            #expect(t.offsets == [TextSpan(start: 0, end: 5), TextSpan(start: 5, end: 11)])

            let text = "Grüße, 世界! 🙂 ok"
            let r = try await c.tokenize(model: model, text: text)
            #expect(r.tokens.count == r.offsets.count)
            #expect(r.offsets.first?.start == 0)
            #expect(r.offsets.last?.end == text.unicodeScalars.count)
            let back = try await c.detokenize(model: model, tokens: r.tokens)
            #expect(back.text == text)

            let eos = try await c.detokenize(model: model, tokens: [15496, 50256], skipSpecialTokens: true)
            #expect(eos.text == "Hello")
            let empty = try await c.tokenize(model: model, text: "")
            #expect(empty.tokens.isEmpty)
        }
    }

    @Test func greedyGenerateMatchesTransformersGolden() async throws {
        let golden = try readInt64Tensors(Paths.tinyModel + "/golden.safetensors")
        let prompt = try #require(golden["greedy.prompt"])
        let output = try #require(golden["greedy.output"])
        let expected = Array(output[prompt.count...])
        try await withDaemon { d in
            let c = d.client()
            let r = try await c.generate(GenerateRequest(model: model, input: .tokens(prompt), maxNewTokens: expected.count))
            #expect(r.tokens == expected)
            #expect(r.finishReason == .length)
            #expect(r.usage.promptTokens == prompt.count)
            #expect(r.usage.completionTokens == expected.count)
            #expect(r.usage.cachedTokens == 0)
            let text = try await c.detokenize(model: model, tokens: expected)
            #expect(r.text == text.text)
        }
    }

    @Test func streamingConcatenatesToResult() async throws {
        try await withDaemon { d in
            let c = d.client()
            let request = GenerateRequest(model: model, input: .text("Hello, I'm a language model"), maxNewTokens: 24, logprobs: true)
            var tokens: [TokenEvent] = []
            var final: GenerateResponse?
            for try await update in c.generateStream(request) {
                switch update {
                case .token(let t):
                    #expect(final == nil, "token after the result")
                    tokens.append(t)
                case .done(let r): final = r
                }
            }
            let r = try #require(final)
            #expect(tokens.map(\.index) == Array(0..<tokens.count))
            #expect(tokens.map(\.token) == r.tokens)
            #expect(tokens.map(\.text).joined() == r.text)
            #expect(r.logprobs?.count == r.tokens.count)
            #expect(tokens.allSatisfy { $0.logprob != nil })
            // Same request without streaming: same tokens (greedy).
            let plain = try await c.generate(request)
            #expect(plain.tokens == r.tokens)
            #expect(plain.text == r.text)
        }
    }

    @Test func score() async throws {
        try await withDaemon { d in
            let c = d.client()
            let r = try await c.score(ScoreRequest(model: model, input: .text("The cat sat on the mat."), topLogprobs: 3))
            let t = try await c.tokenize(model: model, text: "The cat sat on the mat.")
            #expect(r.tokens == t.tokens)
            #expect(r.logprobs.count == r.tokens.count)
            #expect(r.logprobs[0] == nil)
            let rest = r.logprobs.dropFirst().compactMap { $0 }
            #expect(rest.count == r.tokens.count - 1)
            #expect(rest.allSatisfy { $0 <= 0 })
            let ppl = try #require(r.perplexity)
            let expected = exp(-rest.reduce(0, +) / Double(rest.count))
            #expect(abs(ppl - expected) / expected < 1e-3)
            let top = try #require(r.topLogprobs)
            #expect(top.count == r.tokens.count)
            #expect(top[0] == nil)
            #expect(top.dropFirst().allSatisfy { $0?.count == 3 })

            let single = try await c.score(ScoreRequest(model: model, input: .tokens([464])))
            #expect(single.perplexity == nil)
        }
    }

    @Test func sessions() async throws {
        try await withDaemon { d in
            let c = d.client()
            let s = try await c.sessionOpen(model: model)
            #expect(s.model == model)
            #expect(s.nTokens == 0)
            #expect(!s.busy)

            let list = try await c.sessionList()
            #expect(list.sessions.map(\.session).contains(s.session))

            let prompt = "Once upon a time there was"
            let p = try await c.tokenize(model: model, text: prompt).tokens
            let request = GenerateRequest(model: model, input: .text(prompt), session: s.session, maxNewTokens: 5)
            let first = try await c.generate(request)
            #expect(first.usage.cachedTokens == 0)
            let alone = try await c.generate(GenerateRequest(model: model, input: .text(prompt), maxNewTokens: 5))
            #expect(first.tokens == alone.tokens)
            let info = try await c.sessionInfo(s.session)
            #expect(info.nTokens > 0)
            // PROTOCOL.md §3: a session is a history; the new input is appended to it and the result is
            // what the same context gives without a session.
            let second = try await c.generate(request)
            let context = p + first.tokens + p
            #expect(second.usage.promptTokens == context.count)
            #expect(second.usage.cachedTokens > 0)
            #expect(second.usage.cachedTokens <= p.count + first.tokens.count - 1)
            let reference = try await c.generate(GenerateRequest(model: model, input: .tokens(context), maxNewTokens: 5))
            #expect(second.tokens == reference.tokens)
            #expect(try await c.sessionInfo(s.session).nTokens == context.count + second.tokens.count)

            // score with a session scores only the new tokens, conditioned on the history.
            let history = context + second.tokens
            let scored = try await c.score(ScoreRequest(model: model, input: .tokens([13, 383]), session: s.session))
            #expect(scored.tokens == [13, 383])
            let full = try await c.score(ScoreRequest(model: model, input: .tokens(history + [13, 383])))
            let first0 = try #require(scored.logprobs[0])
            let expected0 = try #require(full.logprobs[history.count])
            #expect(abs(first0 - expected0) < 1e-3)

            let closed = try await c.sessionClose(s.session)
            #expect(closed.closed)
            #expect(closed.session == s.session)
            await expectDaemonError(.unknownSession) { try await c.sessionInfo(s.session) }
            await expectDaemonError(.unknownSession) { try await c.sessionClose(s.session) }
        }
    }

    @Test func concurrentRequestsShareOneConnection() async throws {
        try await withDaemon { d in
            let c = d.client()
            let prompts = (0..<8).map { "Request number \($0) says" }
            // One by one first, for the expected answers.
            var expected: [String: [Int]] = [:]
            for p in prompts {
                expected[p] = try await c.generate(GenerateRequest(model: model, input: .text(p), maxNewTokens: 12)).tokens
            }
            // Then all at once (plus streams and small requests in between) on the same client.
            try await withThrowingTaskGroup(of: (String, [Int]).self) { group in
                for p in prompts {
                    group.addTask {
                        (p, try await c.generate(GenerateRequest(model: model, input: .text(p), maxNewTokens: 12)).tokens)
                    }
                    group.addTask {
                        var ids: [Int] = []
                        for try await u in c.generateStream(GenerateRequest(model: model, input: .text(p), maxNewTokens: 12)) {
                            if case .token(let t) = u { ids.append(t.token) }
                        }
                        return (p, ids)
                    }
                    group.addTask { ("tokenize", try await c.tokenize(model: model, text: p).tokens) }
                }
                for try await (p, tokens) in group where p != "tokenize" {
                    #expect(tokens == expected[p], "\(p)")
                }
            }
            let s = try await c.stats()
            #expect(s.connections == 1)
        }
    }

    @Test func droppingAStreamCancelsTheRequest() async throws {
        try await withDaemon { d in
            let c = d.client()
            let before = try await c.stats()
            // Several long generations; keep only the first token of each, then drop the streams.
            let n = 4
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<n {
                    group.addTask {
                        let request = GenerateRequest(model: model, input: .tokens(longPrompt), maxNewTokens: longRun)
                        for try await update in c.generateStream(request) {
                            if case .token = update { break }  // leaves the loop: the stream is dropped
                        }
                    }
                }
                try await group.waitForAll()
            }
            let idle = try await eventually(timeout: 10) {
                let s = try await c.stats()
                return s.requestsActive == 1  // only this stats request
                    || s.requestsActive == 0
            }
            #expect(idle, "cancelled generations still active")
            let after = try await c.stats()
            // Cancelled early: fewer than the n × 64 tokens the generations would have produced.
            #expect(after.completionTokensTotal - before.completionTokensTotal < n * longRun)
            // The connection is still usable.
            #expect(try await c.health().status == "ok")
        }
    }

    @Test func cancellingTheConsumingTaskCancelsTheRequest() async throws {
        try await withDaemon { d in
            let c = d.client()
            let firstToken = AsyncStream.makeStream(of: Void.self)
            let task = Task {
                var count = 0
                for try await update in c.generateStream(GenerateRequest(model: model, input: .tokens(longPrompt), maxNewTokens: longRun)) {
                    if case .token = update {
                        count += 1
                        if count == 1 { firstToken.continuation.yield() }
                    }
                }
                return count
            }
            for await _ in firstToken.stream { break }
            task.cancel()
            let result = await task.result
            if case .success(let count) = result {
                #expect(count < longRun, "the generation ran to the end despite cancellation")
            }
            let idle = try await eventually(timeout: 10) { try await c.stats().requestsActive <= 1 }
            #expect(idle)
        }
    }

    @Test func explicitCancelByID() async throws {
        try await withDaemon { d in
            let c = d.client()
            let id: RequestID = "long-one"
            var sawCancelled = false
            var tokens = 0
            do {
                for try await update in c.generateStream(GenerateRequest(model: model, input: .tokens(longPrompt), maxNewTokens: longRun), id: id) {
                    guard case .token = update else { continue }
                    tokens += 1
                    if tokens == 1 {
                        let r = try await c.cancel(id: id)
                        #expect(r.targetID == id)
                        if !r.cancelled { Issue.record("the generation finished before cancel arrived") }
                    }
                }
            } catch GPT2ClientError.daemon(let e) where e.code == .cancelled {
                sawCancelled = true
            }
            #expect(sawCancelled)
            let none = try await c.cancel(id: "no-such-request")
            #expect(none.cancelled == false)
        }
    }

    @Test func daemonErrorsAreTyped() async throws {
        try await withDaemon { d in
            let c = d.client()
            await expectDaemonError(.unknownModel) { try await c.tokenize(model: "nope", text: "x") }
            await expectDaemonError(.unknownModel) { try await c.generate(GenerateRequest(model: "nope", input: .text("x"))) }
            let e = await expectDaemonError(.invalidField) {
                try await c.generate(GenerateRequest(model: model, input: .text("x"), topP: 1.5))
            }
            #expect(e?.field == "top_p")
            await expectDaemonError(.invalidField) { try await c.detokenize(model: model, tokens: [50257]) }
            await expectDaemonError(.invalidField) {
                try await c.generate(GenerateRequest(model: model, input: .text("x"), stop: Array(repeating: "a", count: 17)))
            }
            await expectDaemonError(.contextOverflow) {
                try await c.generate(GenerateRequest(model: model, input: .text("x"), maxNewTokens: 1000))
            }
            await expectDaemonError(.contextOverflow) {
                try await c.score(ScoreRequest(model: model, input: .tokens(Array(repeating: 11, count: 200))))
            }
            await expectDaemonError(.unknownSession) { try await c.sessionInfo("s-does-not-exist") }
            await expectDaemonError(.invalidField) {
                try await c.generate(GenerateRequest(model: model, input: .tokens([])))
            }
            // Errors don't poison the connection.
            let health = try await c.health()
            #expect(health.status == "ok")
        }
    }

    @Test func timeoutAsksTheDaemonToCancel() async throws {
        try await withDaemon { d in
            let c = d.client(timeout: nil)
            do {
                _ = try await c.generate(GenerateRequest(model: model, input: .tokens(longPrompt), maxNewTokens: longRun),
                                         timeout: .microseconds(1))
                Issue.record("expected a timeout")
            } catch let e as GPT2ClientError {
                #expect(e == .timeout)
            }
            #expect(try await eventually(timeout: 10) { try await c.stats().requestsActive <= 1 })
        }
    }

    @Test func daemonStoppingClosesTheConnection() async throws {
        let d = try await DaemonProcess.start()
        let c = d.client()
        _ = try await c.health()
        d.kill()
        do {
            _ = try await c.health()
            Issue.record("expected a connection error")
        } catch let e as GPT2ClientError {
            switch e {
            case .connectionClosed, .connectionFailed: break
            default: Issue.record("unexpected \(e)")
            }
        }
    }
}

@Suite("GPT2Client without a daemon")
struct GPT2ClientConnectionTests {
    @Test func missingSocketIsConnectionFailedENOENT() async throws {
        let path = Paths.tempSocket()
        let c = GPT2Client(socketPath: path)
        do {
            _ = try await c.health()
            Issue.record("expected connectionFailed")
        } catch let GPT2ClientError.connectionFailed(p, errno, _) {
            #expect(p == path)
            #expect(errno == ENOENT)
        }
    }

    @Test func socketWithoutListenerIsConnectionRefused() async throws {
        let path = Paths.tempSocket()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)  // bound but never listen(2)ed
        do {
            _ = try await GPT2Client(socketPath: path).health()
            Issue.record("expected connectionFailed")
        } catch let GPT2ClientError.connectionFailed(_, errno, _) {
            #expect(errno == ECONNREFUSED)
        }
    }

    @Test func socketPathResolution() {
        #expect(GPT2Client.defaultSocketPath == "/run/gpt2d/gpt2d.sock")
        #expect(GPT2Client.resolveSocketPath("/x.sock") == "/x.sock")
        setenv("GPT2D_SOCKET", "/tmp/from-env.sock", 1)
        #expect(GPT2Client.resolveSocketPath(nil) == "/tmp/from-env.sock")
        #expect(GPT2Client.resolveSocketPath("/x.sock") == "/x.sock")
        unsetenv("GPT2D_SOCKET")
        #expect(GPT2Client.resolveSocketPath(nil) == "/run/gpt2d/gpt2d.sock")
    }

    @Test func oversizedRequestIsRefusedBeforeConnecting() async throws {
        let c = GPT2Client(socketPath: Paths.tempSocket(), maxRequestBytes: 64)
        await #expect(throws: GPT2ClientError.requestTooLarge(bytes: 149, limit: 64)) {
            try await c.tokenize(model: "m", text: String(repeating: "x", count: 100))
        }
        #expect(await !c.isConnected)
    }
}
