// Greedy decoding straight on the runner: argmax of the last logits, fed back one token at a
// time through the KV cache. transformers' generate(do_sample=False) semantics: the first
// maximal index wins ties; generation stops after the EOS token (which is included).

extension GPT2Runner {
    /// Prompt + up to `maxNewTokens` greedy tokens, computed in `cache` (which must be empty or
    /// hold a prefix the prompt continues). Stops early after emitting `eosTokenID` when given.
    @_optimize(speed)
    public func greedy(prompt: [Int32], maxNewTokens: Int, eosTokenID: Int? = nil, cache: KVCache) throws -> [Int32] {
        var out = prompt
        var next = try forward([ForwardRequest(cache: cache, tokens: Array(prompt[cache.count...]), logits: .last)])[0].logits
        for i in 0..<maxNewTokens {
            let token = Int32(Sampling.argmax(next))
            out.append(token)
            if let eos = eosTokenID, Int(token) == eos { break }
            if i + 1 == maxNewTokens { break }
            next = try forward([ForwardRequest(cache: cache, tokens: [token], logits: .last)])[0].logits
        }
        return out
    }
}
