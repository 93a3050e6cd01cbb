// CompletionsEndpoint — `POST /v1/completions`: every prompt is one engine generation (n or best_of
// sequences: the engine's num_return_sequences), all submitted at once so they share the engine's
// batches; choice i·n + j is sequence j of prompt i. With echo and logprobs, each prompt is scored
// first (its tokens' log-probabilities lead the choice's logprobs).
//
// Not streamed: the events are collected and one `text_completion` object answers. Streamed: each
// generated token is one SSE chunk; a choice's last chunk carries its finish_reason (and any text the
// stop-string filter released only at the end); with stream_options.include_usage a last chunk with
// `choices: []` carries the usage; then `data: [DONE]`. An engine error ends a stream with an error
// event and cancels the request's other generations.
import GPT2JSON
import GPT2Tokenizer

struct CompletionsEndpoint {
    let context: HTTPContext

    func answer(_ request: HTTPRequest) async -> HTTPAnswer {
        let r: CompletionRequest
        let model: ServedModel
        do throws(OpenAIError) {
            r = try CompletionRequest(OpenAIFields(parsing: request.body))
            model = try await context.model(r.model)
        } catch {
            return .error(error)
        }
        let run = CompletionRun(request: r, model: model, context: context)
        if r.stream {
            return .eventStream { emit in try await run.stream(emit: emit) }
        }
        do {
            return .json(.ok, try await run.complete())
        } catch let e as OpenAIError {
            return .error(e)
        } catch {
            return .error(OpenAIError(.internalServerError, "\(error)", type: "server_error"))
        }
    }
}

/// One completion request in flight.
struct CompletionRun: Sendable {
    let request: CompletionRequest
    let model: ServedModel
    let context: HTTPContext
    let id = HTTPContext.responseID("cmpl-")
    let created = HTTPContext.now

    private var tokenizer: GPT2Tokenizer { model.tokenizer }

    /// Generated sequence's per-token alternatives as streamed, by (prompt, sequence, token index).
    private struct StreamKey: Hashable { var prompt: Int, sequence: Int }

    // MARK: engine

    /// The prompts' texts as echoed (token prompts decoded).
    private func promptText(_ p: Prompt) -> String {
        switch p {
        case .text(let t): return t
        case .tokens(let ids): return tokenizer.decode(ids)
        }
    }

    /// Scores every prompt (echo with logprobs), all submitted at once so they share the engine's
    /// batches (and leave their prefixes cached for the generations); an engine error becomes the
    /// request's error.
    private func scorePrompts() async throws -> [ScoreResult]? {
        guard request.echo, let k = request.logprobs else { return nil }
        let results = await withTaskGroup(of: (Int, Result<ScoreResult, EngineError>).self) { group in
            for (i, p) in request.prompts.enumerated() {
                group.addTask {
                    await withCheckedContinuation { c in
                        context.engine.score(ScoringRequest(model: request.model, prompt: p, topLogprobs: k),
                                             key: context.jobKey, client: context.client) { c.resume(returning: (i, $0)) }
                    }
                }
            }
            var out = [Result<ScoreResult, EngineError>?](repeating: nil, count: request.prompts.count)
            for await (i, r) in group { out[i] = r }
            return out
        }
        return try results.map { r throws(OpenAIError) -> ScoreResult in
            switch r! {
            case .success(let s): return s
            case .failure(let e): throw OpenAIError(e)
            }
        }
    }

    /// Submits every prompt's generation; their events arrive on the returned stream, tagged by prompt.
    private func submit() -> AsyncStream<(prompt: Int, event: EngineEvent)> {
        let (events, sink) = AsyncStream.makeStream(of: (prompt: Int, event: EngineEvent).self)
        for (i, p) in request.prompts.enumerated() {
            context.engine.generate(request.generation(for: p), key: context.jobKey, client: context.client) {
                sink.yield((i, $0))
            }
        }
        return events
    }

    /// The echoed prompt's logprobs (first token: null), or an empty object starting at 0.
    private func leadingLogprobs(_ score: ScoreResult?) -> CompletionLogprobs {
        var lp = CompletionLogprobs()
        guard let score else { return lp }
        for (i, t) in score.tokens.enumerated() {
            var alternatives: [RankedToken]? = nil
            if i > 0 { alternatives = score.topLogprobs.flatMap { i < $0.count ? $0[i] : nil } ?? [] }
            lp.append(t, logprob: i < score.logprobs.count ? score.logprobs[i] : nil, alternatives: alternatives, tokenizer: tokenizer)
        }
        return lp
    }

    private static func finishReason(_ r: FinishReason) -> JSON { r == .length ? "length" : "stop" }

    private func usage(prompt: Int, completion: Int, cached: Int) -> JSON {
        .object([
            "prompt_tokens": .int(Int64(prompt)), "completion_tokens": .int(Int64(completion)),
            "total_tokens": .int(Int64(prompt + completion)),
            "prompt_tokens_details": .object(["cached_tokens": .int(Int64(cached))]),
        ])
    }

    // MARK: not streamed

    func complete() async throws -> JSON {
        let scores = try await scorePrompts()
        var results = [GenerationResult?](repeating: nil, count: request.prompts.count)
        var alternatives: [StreamKey: [Int: [RankedToken]]] = [:]
        var pending = request.prompts.count
        for await (p, event) in submit() {
            switch event {
            case .token(let t):
                if let top = t.topLogprobs { alternatives[StreamKey(prompt: p, sequence: t.sequence ?? 0), default: [:]][t.index] = top }
            case .result(let r):
                results[p] = r
                pending -= 1
            case .error(let e):
                context.engine.cancelAll(connection: context.client.connection)
                throw OpenAIError(e)
            }
            if pending == 0 { break }
        }
        var choices: [JSON] = []
        var promptTokens = 0, completionTokens = 0, cached = 0
        for (p, result) in results.enumerated() {
            guard let result else { throw OpenAIError(.internalServerError, "a generation ended without a result", type: "server_error") }
            promptTokens += result.usage.promptTokens
            cached += result.usage.cachedTokens
            let sequences = result.sequences ?? [SequenceOutput(text: result.text, tokens: result.tokens, finishReason: result.finishReason,
                                                                logprobs: result.logprobs, score: nil)]
            completionTokens += sequences.reduce(0) { $0 + $1.tokens.count }
            let prefix = request.echo ? promptText(request.prompts[p]) : ""
            for (j, s) in chosen(sequences).enumerated() {
                var logprobs = JSON.null
                if let k = request.logprobs {
                    var lp = leadingLogprobs(scores?[p])
                    lp.nextOffset = prefix.unicodeScalars.count
                    let top = alternatives[StreamKey(prompt: p, sequence: s)] ?? [:]
                    let logprobsOfTokens = sequences[s].logprobs ?? []
                    for (i, t) in sequences[s].tokens.enumerated() {
                        lp.append(t, logprob: i < logprobsOfTokens.count ? logprobsOfTokens[i] : nil,
                                  alternatives: k > 0 ? top[i] ?? [] : [], tokenizer: tokenizer)
                    }
                    logprobs = lp.json
                }
                choices.append(.object([
                    "index": .int(Int64(p * request.n + j)), "text": .string(prefix + sequences[s].text),
                    "logprobs": logprobs, "finish_reason": Self.finishReason(sequences[s].finishReason),
                ]))
            }
        }
        return .object([
            "id": .string(id), "object": "text_completion", "created": .int(Int64(created)), "model": .string(request.model),
            "choices": .array(choices), "usage": usage(prompt: promptTokens, completion: completionTokens, cached: cached),
        ])
    }

    /// Which sequences are answered, best first: all n, or the n of best_of with the highest summed
    /// log-probability (a sequence with a -inf token last).
    private func chosen(_ sequences: [SequenceOutput]) -> [Int] {
        guard request.bestOf > request.n else { return Array(0..<min(request.n, sequences.count)) }
        let sums = sequences.map { s in (s.logprobs ?? []).reduce(0.0) { $0 + ($1 ?? -.infinity) } }
        return Array(sequences.indices.sorted { sums[$0] > sums[$1] || (sums[$0] == sums[$1] && $0 < $1) }.prefix(request.n))
    }

    // MARK: streamed

    /// One choice's progress in a stream.
    private struct StreamedChoice {
        var text = ""
        var logprobs: CompletionLogprobs
    }

    private func chunk(_ choices: [JSON]) -> JSON {
        var o: JSONObject = [
            "id": .string(id), "object": "text_completion", "created": .int(Int64(created)), "model": .string(request.model),
            "choices": .array(choices),
        ]
        if request.includeUsage { o["usage"] = .null }
        return .object(o)
    }

    private func choice(_ index: Int, text: String, logprobs: JSON = .null, finish: JSON = .null) -> JSON {
        .object(["index": .int(Int64(index)), "text": .string(text), "logprobs": logprobs, "finish_reason": finish])
    }

    func stream(emit: @escaping @Sendable (JSON) async throws -> Void) async throws {
        let scores: [ScoreResult]?
        do {
            scores = try await scorePrompts()
        } catch let e as OpenAIError {
            return try await emit(e.json)
        }
        var choices: [Int: StreamedChoice] = [:]
        for (p, prompt) in request.prompts.enumerated() {
            let prefix = request.echo ? promptText(prompt) : ""
            for j in 0..<request.n {
                var lp = leadingLogprobs(scores?[p])
                lp.nextOffset = prefix.unicodeScalars.count
                choices[p * request.n + j] = StreamedChoice(logprobs: lp)
                if request.echo {
                    try await emit(chunk([choice(p * request.n + j, text: prefix, logprobs: request.logprobs == nil ? .null : lp.json)]))
                }
            }
        }
        var pending = request.prompts.count
        var promptTokens = 0, completionTokens = 0, cached = 0
        do {
            for await (p, event) in submit() {
                switch event {
                case .token(let t):
                    let index = p * request.n + (t.sequence ?? 0)
                    guard var c = choices[index] else { continue }
                    var logprobs = JSON.null
                    if let k = request.logprobs {
                        var lp = CompletionLogprobs(startOffset: c.logprobs.nextOffset)
                        lp.append(t.token, logprob: t.logprob, alternatives: k > 0 ? t.topLogprobs ?? [] : [], tokenizer: tokenizer)
                        c.logprobs.nextOffset = lp.nextOffset
                        logprobs = lp.json
                    } else if t.text.isEmpty {
                        continue
                    }
                    c.text += t.text
                    choices[index] = c
                    try await emit(chunk([choice(index, text: t.text, logprobs: logprobs)]))
                case .result(let r):
                    pending -= 1
                    promptTokens += r.usage.promptTokens
                    cached += r.usage.cachedTokens
                    let sequences = r.sequences ?? [SequenceOutput(text: r.text, tokens: r.tokens, finishReason: r.finishReason,
                                                                   logprobs: r.logprobs, score: nil)]
                    completionTokens += sequences.reduce(0) { $0 + $1.tokens.count }
                    for (j, s) in sequences.prefix(request.n).enumerated() {
                        let index = p * request.n + j
                        let sent = choices[index]?.text ?? ""
                        // Text the stop-string filter held back and released only with the result.
                        let rest = s.text.hasPrefix(sent) ? String(s.text.dropFirst(sent.count)) : ""
                        try await emit(chunk([choice(index, text: rest, finish: Self.finishReason(s.finishReason))]))
                    }
                case .error(let e):
                    context.engine.cancelAll(connection: context.client.connection)
                    return try await emit(OpenAIError(e).json)
                }
                if pending == 0 { break }
            }
        } catch {
            // The client is gone: its other generations must not keep running.
            context.engine.cancelAll(connection: context.client.connection)
            throw error
        }
        if request.includeUsage {
            try await emit(.object([
                "id": .string(id), "object": "text_completion", "created": .int(Int64(created)), "model": .string(request.model),
                "choices": .array([]), "usage": usage(prompt: promptTokens, completion: completionTokens, cached: cached),
            ]))
        }
    }
}
