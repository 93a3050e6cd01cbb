// MultiSample — num_return_sequences / OpenAI `n` for sampling: n sequences continue one prompt,
// whose prefill is computed once and forked n ways (KVCache.fork); every step computes all
// unfinished sequences in one batched forward call.
//
// Seed rule: sequence i draws from its own generator seeded with `seed &+ i` (wrapping UInt64
// addition), so sequence 0 is exactly what a single-sequence request with the same seed produces,
// and any sequence can be reproduced alone. With `seed == nil` one random base seed is drawn and
// the same rule applies. (transformers instead draws all rows from one global torch generator, so
// its samples cannot be reproduced here token for token; its greedy/beam outputs can.)

/// One sampled continuation.
public struct SampledSequence: Sendable, Equatable {
    public enum FinishReason: Sendable, Equatable { case eos, length }
    /// Prompt + generated tokens (the EOS included when it ended the sequence).
    public var tokens: [Int32]
    public var promptLength: Int
    public var finishReason: FinishReason
    /// The seed its sampler used.
    public var seed: UInt64

    public var generated: ArraySlice<Int32> { tokens[promptLength...] }
}

extension SamplingParameters {
    /// The seed of sequence `index` of a multi-sequence request with base seed `base`.
    public static func sequenceSeed(base: UInt64, index: Int) -> UInt64 { base &+ UInt64(index) }
}

extension GPT2Runner {
    /// `count` sequences sampled after `prompt` with `parameters` (each with its own seed, see the
    /// file header), up to `maxNewTokens` each, ending early on any of `eosTokenIDs`.
    /// `cache` must be empty or hold a prefix the prompt continues; on return it holds exactly the
    /// prompt (the sequences run in forks of it, released on return).
    public func sampleSequences(prompt: [Int32], count: Int, parameters: SamplingParameters, maxNewTokens: Int,
                                eosTokenIDs: [Int32] = [50256], cache: KVCache) throws -> [SampledSequence] {
        precondition(count >= 1, "count has to be at least 1")
        precondition(maxNewTokens >= 1, "maxNewTokens has to be at least 1")
        precondition(!prompt.isEmpty, "sampling needs a prompt")
        try parameters.validate()
        let eos = Set(eosTokenIDs)
        let base = parameters.seed ?? UInt64.random(in: 0...UInt64.max)

        if cache.count >= prompt.count { cache.truncate(to: prompt.count - 1) }
        let promptLogits = try forward([ForwardRequest(cache: cache, tokens: Array(prompt[cache.count...]), logits: .last)])[0].logits

        struct Sequence { var sampler: TokenSampler; var tokens: [Int32]; var cache: KVCache?; var finish: SampledSequence.FinishReason? ; var seed: UInt64 }
        var seqs: [Sequence] = (0..<count).map { i in
            var p = parameters
            p.seed = SamplingParameters.sequenceSeed(base: base, index: i)
            if p.eosTokenIDs.isEmpty { p.eosTokenIDs = eosTokenIDs }
            return Sequence(sampler: TokenSampler(p, promptLength: prompt.count), tokens: prompt, cache: nil, finish: nil, seed: p.seed!)
        }
        // First token of every sequence from the shared prompt logits.
        for i in seqs.indices {
            var logits = promptLogits
            let token = Int32(seqs[i].sampler.next(&logits, context: GenerationContext(history: seqs[i].tokens, promptLength: prompt.count)))
            seqs[i].tokens.append(token)
            if eos.contains(token) { seqs[i].finish = .eos } else if maxNewTokens == 1 { seqs[i].finish = .length }
        }
        // Fork the prompt cache for the sequences that go on.
        for i in seqs.indices where seqs[i].finish == nil {
            guard let fork = cache.fork() else {
                throw ForwardError.kvBudgetExhausted(sequence: i, neededBlocks: (cache.count + cache.pool.blockTokens - 1) / cache.pool.blockTokens)
            }
            seqs[i].cache = fork
        }
        while true {
            let active = seqs.indices.filter { seqs[$0].finish == nil }
            if active.isEmpty { break }
            let results = try forward(active.map { ForwardRequest(cache: seqs[$0].cache!, tokens: [seqs[$0].tokens.last!], logits: .last) })
            for (k, i) in active.enumerated() {
                var logits = results[k].logits
                let token = Int32(seqs[i].sampler.next(&logits, context: GenerationContext(history: seqs[i].tokens, promptLength: prompt.count)))
                seqs[i].tokens.append(token)
                if eos.contains(token) { seqs[i].finish = .eos }
                else if seqs[i].tokens.count - prompt.count >= maxNewTokens { seqs[i].finish = .length }
                if seqs[i].finish != nil { seqs[i].cache = nil }   // release its blocks now
            }
        }
        return seqs.map { SampledSequence(tokens: $0.tokens, promptLength: prompt.count, finishReason: $0.finish!, seed: $0.seed) }
    }
}
