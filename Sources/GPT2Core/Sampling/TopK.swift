// TopK — transformers' TopKLogitsWarper: removes every score strictly below the k-th largest
// (ties at the boundary survive); k = max(topK, minTokensToKeep), capped at V.

public struct TopK: LogitsProcessor {
    public let k: Int
    public init(_ k: Int, minTokensToKeep: Int = 1) { precondition(k > 0); self.k = max(k, minTokensToKeep) }

    public func process(_ logits: inout [Float], history: [Int32]) {
        guard k < logits.count else { return }
        // The k-th largest value: partial selection over a copy.
        var copy = logits
        let kth = copy.withUnsafeMutableBufferPointer { Self.select($0, k - 1) }
        for i in logits.indices where logits[i] < kth { logits[i] = -.infinity }
    }

    /// The value that would sit at index `n` of the buffer sorted descending (quickselect).
    static func select(_ a: UnsafeMutableBufferPointer<Float>, _ n: Int) -> Float {
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let pivot = a[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while a[i] > pivot { i += 1 }
                while a[j] < pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if n <= j { hi = j } else if n >= i { lo = i } else { return a[n] }
        }
        return a[n]
    }
}
