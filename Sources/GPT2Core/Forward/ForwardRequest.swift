// ForwardRequest / ForwardResult — one sequence's share of a batched forward call.

/// Which rows of a sequence's new tokens an output is wanted for.
public enum RowSelection: Sendable, Equatable {
    case none
    /// Only the last new token (next-token prediction, pooling on the last token).
    case last
    /// Every new token (scoring, token tagging, QA).
    case all
}

/// New tokens of one sequence, appended after `cache.count` cached positions.
public struct ForwardRequest {
    public var cache: KVCache
    /// Token ids, each in 0..<V.
    public var tokens: [Int32]
    /// Rows whose logits (V each) are returned.
    public var logits: RowSelection
    /// Rows whose final hidden states (after ln_f, C each) are returned.
    public var hidden: RowSelection

    public init(cache: KVCache, tokens: [Int32], logits: RowSelection = .last, hidden: RowSelection = .none) {
        self.cache = cache; self.tokens = tokens; self.logits = logits; self.hidden = hidden
    }

    /// The new tokens whose final hidden state any output reads (the union of both selections).
    var outputTokens: Range<Int> {
        let T = tokens.count
        if logits == .all || hidden == .all { return 0..<T }
        if logits == .last || hidden == .last { return (T - 1)..<T }
        return 0..<0
    }
}

/// Outputs for one ForwardRequest. Row-major; rows follow the request's RowSelection.
public struct ForwardResult: Sendable {
    /// (rows, V) logits, empty when not requested.
    public var logits: [Float]
    /// (rows, C) final hidden states, empty when not requested.
    public var hidden: [Float]
    /// Rows in `logits` (0, 1 or the token count).
    public var logitRows: Int
    /// Rows in `hidden`.
    public var hiddenRows: Int

    /// Logits of row r as a slice (V values).
    public func logitsRow(_ r: Int, vocabSize v: Int) -> ArraySlice<Float> { logits[(r * v)..<((r + 1) * v)] }
}

/// Why a forward call was refused. Nothing is computed and no cache changes when one is thrown.
public enum ForwardError: Error, Equatable, CustomStringConvertible {
    case emptyInput(sequence: Int)
    case tokenOutOfRange(sequence: Int, token: Int, vocabSize: Int)
    /// GPT-2's learned positions end at n_positions; they cannot be shifted.
    case contextOverflow(sequence: Int, positions: Int, limit: Int)
    case duplicateCache(sequence: Int)
    /// The KV budget has no room; evict idle caches and retry.
    case kvBudgetExhausted(sequence: Int, neededBlocks: Int)

    public var description: String {
        switch self {
        case .emptyInput(let s): return "sequence \(s): no tokens to compute"
        case .tokenOutOfRange(let s, let t, let v): return "sequence \(s): token id \(t) is outside the vocabulary (0..<\(v))"
        case .contextOverflow(let s, let p, let l): return "sequence \(s): \(p) positions exceed the model's context of \(l) (n_positions)"
        case .duplicateCache(let s): return "sequence \(s): the same KV cache appears twice in one batch"
        case .kvBudgetExhausted(let s, let n): return "sequence \(s): KV cache budget exhausted (needs \(n) more blocks)"
        }
    }
}
