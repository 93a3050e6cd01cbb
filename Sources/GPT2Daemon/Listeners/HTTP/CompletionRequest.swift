// CompletionRequest — `POST /v1/completions`' body (OpenAI's fields plus vLLM's sampling extras that
// gpt2d has) decoded and mapped to what the engine is asked: one `GenerationRequest` per prompt.
//
//   temperature 0 → greedy (do_sample false); otherwise sampling at that temperature (OpenAI's
//   default is 1). top_k defaults to 0 (off, as OpenAI and vLLM), not transformers' 50. max_tokens
//   defaults to 16 (OpenAI's). n → num_return_sequences (followers seeded seed+i, as on the JSON-lines
//   socket); best_of > n generates best_of and keeps the n of highest summed log-probability.
//   logprobs k → per-token log-probabilities with k alternatives. suffix is refused (GPT-2 has no infill).
// Ranges are the engine's (GPT2Parameters), checked by the engine; OpenAI's own bounds (n ≤ 16 here,
// stop ≤ 4, logprobs ≤ 20) are checked on decoding.
import GPT2JSON
import GPT2Parameters

struct CompletionRequest: Sendable {
    var model: String
    var prompts: [Prompt]
    /// Completions per prompt in the answer.
    var n: Int
    /// Completions generated per prompt (≥ n); the best n by summed log-probability are answered.
    var bestOf: Int
    var echo: Bool
    /// Alternatives per token when log-probabilities are asked for; nil: none.
    var logprobs: Int?
    var stream: Bool
    var includeUsage: Bool
    /// What every prompt's generation shares (prompt filled per prompt).
    var generation: GenerationRequest

    /// OpenAI's default max_tokens.
    static let defaultMaxTokens = 16

    init(_ f: OpenAIFields) throws(OpenAIError) {
        model = try f.requiredString("model")
        // OpenAI's default prompt is the end-of-text token.
        prompts = try f.prompts("prompt") ?? [.text("<|endoftext|>")]
        try f.refuse("suffix", "GPT-2 has no infill (fill-in-the-middle); send the text before the gap as the prompt")
        n = Int(try f.int("n", Int64(GenerationParameterRanges.numReturnSequences.lowerBound)...Int64(GenerationParameterRanges.numReturnSequences.upperBound)) ?? 1)
        bestOf = Int(try f.int("best_of", 1...Int64(GenerationParameterRanges.numReturnSequences.upperBound)) ?? Int64(n))
        if bestOf < n { throw f.outOfRange("best_of", "at least n (\(n))") }
        echo = try f.bool("echo") ?? false
        logprobs = try f.int("logprobs", 0...Int64(GenerationParameterRanges.topLogprobs.upperBound)).map(Int.init)
        stream = try f.bool("stream") ?? false
        if bestOf > n && stream {
            throw OpenAIError.invalid("'best_of' greater than 'n' cannot be streamed", param: "best_of")
        }
        includeUsage = false
        if let options = f.value("stream_options") {
            guard case .object(let o) = options else { throw f.wrongType("stream_options", "an object", options) }
            guard stream else { throw OpenAIError.invalid("'stream_options' is only allowed with 'stream': true", param: "stream_options") }
            includeUsage = try OpenAIFields(body: o).bool("include_usage") ?? false
        }
        _ = try f.string("user")  // accepted; gpt2d names the caller by its peer credentials

        var g = GenerationRequest(model: model, prompt: .text(""))
        g.maxNewTokens = Int(try f.int("max_tokens", 0...Int64(GenerationParameterRanges.maxNewTokens.upperBound)) ?? Int64(Self.defaultMaxTokens))
        let temperature = try f.number("temperature", 0...2) ?? 1
        if temperature > 0 { g.doSample = true; g.temperature = temperature }
        g.topK = 0
        if let k = try f.int("top_k", -1...Int64(Int32.max)) { g.topK = k <= 0 ? 0 : Int(k) }
        if let p = try f.number("top_p", 0...1) { g.topP = p }
        if let p = try f.number("min_p", 0...1) { g.minP = p }
        if let p = try f.number("repetition_penalty", 0...Double.greatestFiniteMagnitude) { g.repetitionPenalty = p }
        if let p = try f.number("presence_penalty", -2...2) { g.presencePenalty = p }
        if let p = try f.number("frequency_penalty", -2...2) { g.frequencyPenalty = p }
        if let m = try f.int("min_tokens", 0...Int64(GenerationParameterRanges.minNewTokens.upperBound)) { g.minNewTokens = Int(m) }
        if let e = try f.bool("ignore_eos") { g.ignoreEOS = e }
        if let s = f.value("seed") {
            guard let i = s.intValue else { throw f.wrongType("seed", "an integer", s) }
            g.seed = UInt64(bitPattern: i)
        }
        g.stop = try Self.stops(f)
        g.logitBias = try Self.logitBias(f)
        g.numReturnSequences = bestOf
        // Ranking best_of needs every sequence's log-probabilities; alternatives come from the
        // streamed tokens, which carry them per sequence.
        g.logprobs = logprobs != nil || bestOf > n
        g.topLogprobs = logprobs ?? 0
        g.stream = stream || (logprobs ?? 0) > 0
        generation = g
    }

    /// The generation for prompt `p`.
    func generation(for p: Prompt) -> GenerationRequest {
        var g = generation
        g.prompt = p
        return g
    }

    private static func stops(_ f: OpenAIFields) throws(OpenAIError) -> [String] {
        guard let v = f.value("stop") else { return [] }
        switch v {
        case .string(let s): return s.isEmpty ? [] : [s]
        case .array(let items):
            guard items.count <= 4 else { throw f.outOfRange("stop", "at most 4 strings") }
            var out: [String] = []
            for item in items {
                guard let s = item.stringValue else { throw f.wrongType("stop", "a string or an array of strings", item) }
                if !s.isEmpty { out.append(s) }
            }
            return out
        default:
            throw f.wrongType("stop", "a string or an array of strings", v)
        }
    }

    private static func logitBias(_ f: OpenAIFields) throws(OpenAIError) -> [Int: Double] {
        guard let v = f.value("logit_bias") else { return [:] }
        guard case .object(let o) = v else { throw f.wrongType("logit_bias", "an object of token id → bias", v) }
        var out: [Int: Double] = [:]
        for (key, bias) in o {
            guard let id = Int(key), id >= 0 else {
                throw OpenAIError.invalid("'logit_bias' keys must be token ids, not '\(key)'", param: "logit_bias", code: "invalid_value")
            }
            guard let b = bias.doubleValue else { throw f.wrongType("logit_bias", "an object of numbers", bias) }
            out[id] = b
        }
        return out
    }
}

extension OpenAIFields {
    init(body: JSONObject) { self.body = body }
}
