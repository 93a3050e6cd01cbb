// Greedy decoding straight on the runner: argmax of the last logits, fed back one token at a
// time through the KV cache (the one generation loop, GPT2Runner+Generate.swift, with one greedy
// sequence). transformers' generate(do_sample=False) semantics: the first maximal index wins
// ties; generation stops after the EOS token (which is included).

extension GPT2Runner {
    /// Prompt + up to `maxNewTokens` greedy tokens, computed in `cache` (which must be empty or
    /// hold a prefix the prompt continues). Stops early after emitting `eosTokenID` when given.
    public func greedy(prompt: [Int32], maxNewTokens: Int, eosTokenID: Int? = nil, cache: KVCache) throws -> [Int32] {
        let logits = try prefill(prompt, cache: cache)
        guard maxNewTokens > 0 else { return prompt }
        let stepper = SequenceStepper(parameters: SamplingParameters(seed: 0), promptLength: prompt.count,
                                      maxNewTokens: maxNewTokens, eosTokenIDs: eosTokenID.map { [Int32($0)] } ?? [])
        var sequences = [GeneratingSequence(stepper: stepper, tokens: prompt, cache: cache, logits: logits)]
        try decode(&sequences, keepCaches: true)
        return sequences[0].tokens
    }
}
