// MultiSample — num_return_sequences / OpenAI `n` for sampling: n sequences continue one prompt,
// whose prefill is computed once and forked n ways (KVCache.fork); every step computes all
// unfinished sequences in one batched forward call (GPT2Runner.decode, the one generation loop).
//
// Each sequence draws with its own seed (SequenceStepper's seed rule: base + i). With
// `seed == nil` one random base seed is drawn and the same rule applies. (transformers instead
// draws all rows from one global torch generator, so its samples cannot be reproduced here token
// for token; its greedy/beam outputs can.)

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
        let base = parameters.seed ?? UInt64.random(in: 0...UInt64.max)
        var p = parameters
        if p.eosTokenIDs.isEmpty { p.eosTokenIDs = eosTokenIDs }  // what min_new_tokens / bad words protect

        let logits = try prefill(prompt, cache: cache)
        var sequences: [GeneratingSequence] = []
        for i in 0..<count {
            guard let fork = cache.fork() else {
                throw ForwardError.kvBudgetExhausted(sequence: i, neededBlocks: (cache.count + cache.pool.blockTokens - 1) / cache.pool.blockTokens)
            }
            let stepper = SequenceStepper(parameters: p, sequence: i, baseSeed: base, promptLength: prompt.count,
                                          maxNewTokens: maxNewTokens, eosTokenIDs: Set(eosTokenIDs))
            sequences.append(GeneratingSequence(stepper: stepper, tokens: prompt, cache: fork, logits: logits))
        }
        try decode(&sequences)
        return sequences.enumerated().map { i, s in
            SampledSequence(tokens: s.tokens, promptLength: prompt.count, finishReason: s.stepper.stop == .eos ? .eos : .length,
                            seed: SamplingParameters.sequenceSeed(base: base, index: i))
        }
    }
}
