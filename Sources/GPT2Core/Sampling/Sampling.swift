// Sampling — small selection helpers over logits (argmax here; log-softmax in TokenSampler.swift).

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
