// FrequencyPenalty — OpenAI / vLLM `frequency_penalty` (transformers' generate() has none): every id
// loses `penalty` times the number of times it occurs among the GENERATED tokens:
//   logit −= frequency · count
// Applied right after the presence penalty (see TokenSampler). Without a prompt boundary
// (`process(_:history:)`) the whole history counts as generated.
import GPT2Parameters

public struct FrequencyPenalty: LogitsProcessor {
    public let penalty: Float

    public init(_ penalty: Float) {
        requireValid { try Self.validate(penalty) }
        self.penalty = penalty
    }

    /// OpenAI and vLLM accept [−2, 2].
    public static func validate(_ penalty: Float) throws {
        let r = GenerationParameterRanges.frequencyPenalty
        guard r.contains(penalty) else { throw SamplingParameterError("frequency_penalty", "has to be \(r.expected), but is \(penalty)") }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        apply(&logits, generated: history[...])
    }

    public func process(_ logits: inout [Float], context: GenerationContext) {
        apply(&logits, generated: context.generated)
    }

    private func apply(_ logits: inout [Float], generated: ArraySlice<Int32>) {
        var counts: [Int32: Int] = [:]
        for t in generated where t >= 0 && Int(t) < logits.count { counts[t, default: 0] += 1 }
        for (t, c) in counts { logits[Int(t)] -= penalty * Float(c) }
    }
}
