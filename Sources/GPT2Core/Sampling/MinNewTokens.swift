// MinNewTokens — transformers' MinNewTokensLengthLogitsProcessor (min_new_tokens): every EOS id
// gets −∞ while fewer than `minNewTokens` tokens follow the prompt.
//
// transformers fixes the prompt length when the processor is built (prompt_length_to_skip); here it
// may be given the same way, or left nil to use the prompt length of the GenerationContext (what
// TokenSampler does, since it is built before the prompt is known). Without either, the whole
// history counts as new.

public struct MinNewTokens: LogitsProcessor {
    public let minNewTokens: Int
    public let promptLength: Int?
    public let eosIDs: [Int32]

    public init(_ minNewTokens: Int, promptLength: Int? = nil, eosIDs: [Int32]) {
        requireValid { try Self.validate(minNewTokens, promptLength: promptLength) }
        self.minNewTokens = minNewTokens; self.promptLength = promptLength; self.eosIDs = eosIDs
    }

    public static func validate(_ minNewTokens: Int, promptLength: Int? = nil) throws {
        guard minNewTokens >= 0 else { throw SamplingParameterError("min_new_tokens", "has to be a positive integer, but is \(minNewTokens)") }
        if let p = promptLength, p < 0 { throw SamplingParameterError("prompt_length_to_skip", "has to be a positive integer, but is \(p)") }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        apply(&logits, newTokens: history.count - (promptLength ?? 0))
    }

    public func process(_ logits: inout [Float], context: GenerationContext) {
        apply(&logits, newTokens: context.history.count - (promptLength ?? context.promptLength))
    }

    private func apply(_ logits: inout [Float], newTokens: Int) {
        guard newTokens < minNewTokens else { return }
        for e in eosIDs where e >= 0 && Int(e) < logits.count { logits[Int(e)] = -.infinity }
    }
}
