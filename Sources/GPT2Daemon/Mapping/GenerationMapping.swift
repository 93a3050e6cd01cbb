// GenerationMapping — a `generate` request becomes an engine `GenerationRequest` (field for field:
// the wire decoder has already checked every range it declares), and the engine's streamed tokens
// and result become the wire's token lines and result.
import GPT2Wire

extension GenerationRequest {
    init(_ r: GenerateRequest) {
        self.init(model: r.model, prompt: Prompt(r.input))
        session = r.session
        maxNewTokens = r.maxNewTokens
        doSample = r.doSample
        temperature = r.temperature
        topK = r.topK
        topP = r.topP
        repetitionPenalty = r.repetitionPenalty
        seed = r.seed
        stop = r.stop
        stream = r.stream
        logprobs = r.logprobs
        let a = r.advanced
        minNewTokens = a.minNewTokens
        noRepeatNGramSize = a.noRepeatNGramSize
        badWordsIDs = a.badWordsIDs
        suppressTokens = a.suppressTokens
        minP = a.minP
        typicalP = a.typicalP
        presencePenalty = a.presencePenalty
        frequencyPenalty = a.frequencyPenalty
        logitBias = a.logitBias
        ignoreEOS = a.ignoreEOS
        numReturnSequences = a.numReturnSequences
        numBeams = a.numBeams
        lengthPenalty = a.lengthPenalty
        switch a.earlyStopping {
        case .true: earlyStopping = .whenNFinished
        case .false: earlyStopping = .heuristic
        case .never: earlyStopping = .never
        }
        includeStopInOutput = a.includeStopStrInOutput
        topLogprobs = a.topLogprobs
        logprobsMode = a.logprobsMode == .raw ? .raw : .processed
    }
}

extension Prompt {
    init(_ input: PromptInput) {
        switch input {
        case .text(let t): self = .text(t)
        case .tokens(let ids): self = .tokens(ids)
        }
    }
}

extension GenerateResponse.FinishReason {
    init(_ r: FinishReason) {
        switch r {
        case .length: self = .length
        case .stop: self = .stop
        case .eos: self = .eos
        }
    }
}

extension TokenLogprob {
    init(_ t: RankedToken) { self.init(token: t.token, logprob: t.logprob) }
}

extension TokenEvent {
    init(_ t: GeneratedToken) {
        self.init(index: t.index, token: t.token, text: t.text, logprob: t.logprob, sequence: t.sequence,
                  topLogprobs: t.topLogprobs?.map(TokenLogprob.init))
    }
}

extension GeneratedSequence {
    init(_ s: SequenceOutput) {
        self.init(text: s.text, tokens: s.tokens, finishReason: .init(s.finishReason), logprobs: s.logprobs, score: s.score)
    }
}

extension GenerateResponse {
    init(_ r: GenerationResult) {
        self.init(
            text: r.text, tokens: r.tokens, finishReason: .init(r.finishReason),
            usage: Usage(promptTokens: r.usage.promptTokens, completionTokens: r.usage.completionTokens, cachedTokens: r.usage.cachedTokens),
            timing: Timing(queueMs: r.timing.queueMs, promptMs: r.timing.promptMs, completionMs: r.timing.completionMs, totalMs: r.timing.totalMs),
            logprobs: r.logprobs, topLogprobs: r.topLogprobs?.map { $0.map(TokenLogprob.init) },
            sequences: r.sequences?.map(GeneratedSequence.init))
    }
}
