// PresencePenalty — OpenAI / vLLM `presence_penalty` (transformers' generate() has none): every id
// that occurs among the GENERATED tokens (the prompt is not counted) loses `penalty` once:
//   logit −= presence · (count > 0)
// Applied right after the repetition penalty (see TokenSampler). Without a prompt boundary
// (`process(_:history:)`) the whole history counts as generated.
import GPT2Parameters

public struct PresencePenalty: LogitsProcessor {
    public let penalty: Float

    public init(_ penalty: Float) {
        requireValid { try Self.validate(penalty) }
        self.penalty = penalty
    }

    /// OpenAI and vLLM accept [−2, 2] (GenerationParameterRanges.presencePenalty).
    public static func validate(_ penalty: Float) throws {
        let r = GenerationParameterRanges.presencePenalty
        guard r.contains(penalty) else { throw SamplingParameterError("presence_penalty", "has to be \(r.expected), but is \(penalty)") }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        apply(&logits, generated: history[...])
    }

    public func process(_ logits: inout [Float], context: GenerationContext) {
        apply(&logits, generated: context.generated)
    }

    private func apply(_ logits: inout [Float], generated: ArraySlice<Int32>) {
        var seen = Set<Int32>()
        for t in generated where seen.insert(t).inserted && t >= 0 && Int(t) < logits.count {
            logits[Int(t)] -= penalty
        }
    }
}
