// GenerationParameterRanges — the one declaration of every generation parameter's allowed values
// (PROTOCOL.md's generate table). Read by GPT2Core (SamplingParameters.validate, on every path,
// greedy included) and by GPT2Wire (the generate request's decoder), so a value the wire rejects
// is one the core rejects and the other way round.

public enum GenerationParameterRanges {
    /// > 0 on every request, greedy included: 0 does not mean greedy (greedy is do_sample false).
    public static let temperature = NumberRange(lower: .open(0))
    /// 0 disables.
    public static let topK: ClosedRange<Int> = 0...Int.max
    public static let topP = NumberRange(lower: .open(0), upper: .closed(1))
    /// 1 disables.
    public static let repetitionPenalty = NumberRange(lower: .open(0))
    /// 0 disables.
    public static let minP = NumberRange.closed(0, 1)
    /// 1 disables.
    public static let typicalP = NumberRange(lower: .open(0), upper: .closed(1))
    public static let presencePenalty = NumberRange.closed(-2, 2)
    public static let frequencyPenalty = NumberRange.closed(-2, 2)
    /// Each bias of logit_bias.
    public static let logitBias = NumberRange.closed(-100, 100)
    /// Most new tokens a request may ask for (the model's n_positions usually bounds it first).
    public static let maxNewTokens: ClosedRange<Int> = 0...(1 << 20)
    public static let minNewTokens: ClosedRange<Int> = maxNewTokens
    /// 0 disables.
    public static let noRepeatNGramSize: ClosedRange<Int> = 0...1024
    public static let numReturnSequences: ClosedRange<Int> = 1...16
    public static let numBeams: ClosedRange<Int> = 1...16
    public static let lengthPenalty = NumberRange()
    /// Alternatives reported per token.
    public static let topLogprobs: ClosedRange<Int> = 0...20
    /// New tokens when max_new_tokens is absent (transformers' default), capped to fit the context.
    public static let defaultMaxNewTokens = 20
}
