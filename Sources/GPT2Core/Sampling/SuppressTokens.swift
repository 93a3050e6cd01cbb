// SuppressTokens — transformers' SuppressTokensLogitsProcessor (suppress_tokens): the listed ids
// get −∞ at every step.

public struct SuppressTokens: LogitsProcessor {
    public let ids: [Int32]

    public init(_ ids: [Int32]) {
        requireValid { try Self.validate(ids) }
        self.ids = ids
    }

    public static func validate(_ ids: [Int32]) throws {
        if let bad = ids.first(where: { $0 < 0 }) { throw SamplingParameterError("suppress_tokens", "has to hold non-negative token ids, but contains \(bad)") }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        for t in ids where Int(t) < logits.count { logits[Int(t)] = -.infinity }
    }
}
