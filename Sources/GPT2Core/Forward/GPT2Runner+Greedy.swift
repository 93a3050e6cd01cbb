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

/// Small selection helpers over logits.
public enum Sampling {
    /// Index of the largest value; the first one on ties (torch.argmax on CPU).
    @_optimize(speed)
    public static func argmax(_ x: [Float]) -> Int {
        x.withUnsafeBufferPointer { argmax($0) }
    }

    @_optimize(speed)
    public static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var value = -Float.infinity
        for i in 0..<x.count where x[i] > value { value = x[i]; best = i }
        return best
    }
}
