// BadWords — transformers' NoBadWordsLogitsProcessor (bad_words_ids), a SequenceBiasLogitsProcessor
// with bias −∞: a single-token sequence is always banned; a longer one bans its last token when the
// history ends with the sequence's other tokens. Single-token sequences equal to an EOS id are
// dropped (as transformers does when generate() passes the EOS ids).

public struct BadWords: LogitsProcessor {
    /// Always banned.
    public let singleTokens: Set<Int32>
    /// (prefix, last token): `last` is banned after `prefix`.
    public let sequences: [(prefix: [Int32], last: Int32)]

    public init(ids: [[Int32]], eosIDs: [Int32] = []) {
        requireValid { try Self.validate(ids) }
        var single = Set<Int32>()
        var multi: [(prefix: [Int32], last: Int32)] = []
        var seen = Set<[Int32]>()
        for seq in ids where seen.insert(seq).inserted {
            if seq.count == 1 {
                if !eosIDs.contains(seq[0]) { single.insert(seq[0]) }
            } else {
                multi.append((Array(seq.dropLast()), seq.last!))
            }
        }
        singleTokens = single
        sequences = multi
    }

    public static func validate(_ ids: [[Int32]]) throws {
        guard !ids.isEmpty else { throw SamplingParameterError("bad_words_ids", "has to be a non-empty list, but is []") }
        for seq in ids {
            guard !seq.isEmpty, seq.allSatisfy({ $0 >= 0 }) else {
                throw SamplingParameterError("bad_words_ids", "has to be a list of non-empty lists of positive integers, but contains \(seq)")
            }
        }
    }

    public func process(_ logits: inout [Float], history: [Int32]) {
        for t in singleTokens where Int(t) < logits.count { logits[Int(t)] = -.infinity }
        for (prefix, last) in sequences where prefix.count <= history.count && Int(last) < logits.count {
            if history.suffix(prefix.count).elementsEqual(prefix) { logits[Int(last)] = -.infinity }
        }
    }
}
