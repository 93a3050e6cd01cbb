// QualityMetrics — how far a candidate model's next-token distributions are from a reference
// model's on the same token positions (issue #11, point 7): KL(reference ‖ candidate) per position
// (mean and 99th percentile), top-1 agreement, and each model's perplexity on the true next tokens.
//
// Library-free (no BLAS, no Foundation math beyond exp/log) and accumulated in Double, so the
// measurement does not depend on the kernels it measures. It lives in test support, not GPT2Core:
// serving never computes it; the quality tests and anything that prints their table do.
import Foundation

/// The summary of `QualityAccumulator` over every position it was given.
public struct QualitySummary: Sendable, CustomStringConvertible {
    /// Positions measured (one next-token distribution per model each).
    public let positions: Int
    /// Mean over positions of KL(reference ‖ candidate), nats.
    public let klMean: Double
    /// 99th percentile (nearest rank: the ⌈0.99·n⌉-th smallest) of the per-position KL, nats.
    public let klP99: Double
    /// Fraction of positions (0…1) where both models' most likely token is the same id.
    public let top1Agreement: Double
    /// exp(mean negative log-likelihood of the true next token), reference model.
    public let referencePerplexity: Double
    /// The same for the candidate model.
    public let candidatePerplexity: Double

    /// candidate perplexity ÷ reference perplexity (1 = no loss).
    public var perplexityRatio: Double { candidatePerplexity / referencePerplexity }

    public var description: String {
        String(format: "positions %d, KL mean %.3g, KL p99 %.3g, top-1 %.4f%%, ppl %.4f vs %.4f (ratio %.5f)",
               positions, klMean, klP99, top1Agreement * 100, candidatePerplexity, referencePerplexity,
               perplexityRatio)
    }
}

/// Collects, position by position, the statistics `QualitySummary` reports.
public struct QualityAccumulator {
    /// KL(reference ‖ candidate) of every position added so far, nats, in order of addition.
    public private(set) var kl: [Double] = []
    private var agreements = 0
    private var referenceNLL = 0.0
    private var candidateNLL = 0.0
    /// exp(reference − max) of the current position, reused between the two passes.
    private var scratch: [Double] = []

    public init() {}

    /// Adds one position: both models' logits over the same vocabulary (V values each, any
    /// offset: only differences matter) and the id of the token that actually follows.
    public mutating func add(reference: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>, target: Int) {
        let V = reference.count
        precondition(V > 0 && candidate.count == V, "logit rows of different lengths: \(V) vs \(candidate.count)")
        precondition(target >= 0 && target < V, "target \(target) outside 0..<\(V)")
        if scratch.count != V { scratch = [Double](repeating: 0, count: V) }
        let (refMax, refArg) = Self.maxAndArgmax(reference)
        let (candMax, candArg) = Self.maxAndArgmax(candidate)
        // Pass 1: the two partition functions, exp(r - max_r) kept for pass 2.
        var refZ = 0.0, candZ = 0.0
        scratch.withUnsafeMutableBufferPointer { e in
            for i in 0..<V {
                let er = exp(Double(reference[i]) - refMax)
                e[i] = er
                refZ += er
                candZ += exp(Double(candidate[i]) - candMax)
            }
        }
        let refLSE = refMax + log(refZ), candLSE = candMax + log(candZ)   // log Σ exp(logit)
        // Pass 2: KL(p ‖ q) = Σ p_i (log p_i − log q_i) = E_p[r − c] − (lse_r − lse_c).
        // Identical rows give exactly 0: every r_i − c_i and the lse difference are 0.
        var expectedDiff = 0.0
        scratch.withUnsafeBufferPointer { e in
            for i in 0..<V { expectedDiff += e[i] * (Double(reference[i]) - Double(candidate[i])) }
        }
        kl.append(expectedDiff / refZ - (refLSE - candLSE))
        if refArg == candArg { agreements += 1 }
        referenceNLL += refLSE - Double(reference[target])
        candidateNLL += candLSE - Double(candidate[target])
    }

    /// Array-slice convenience for `add(reference:candidate:target:)`.
    public mutating func add(reference: ArraySlice<Float>, candidate: ArraySlice<Float>, target: Int) {
        reference.withUnsafeBufferPointer { r in
            candidate.withUnsafeBufferPointer { c in add(reference: r, candidate: c, target: target) }
        }
    }

    public var summary: QualitySummary {
        let n = kl.count
        precondition(n > 0, "no positions measured")
        let sorted = kl.sorted()
        let rank = Int((0.99 * Double(n)).rounded(.up))             // nearest rank, 1-based
        return QualitySummary(positions: n,
                              klMean: kl.reduce(0, +) / Double(n),
                              klP99: sorted[rank - 1],
                              top1Agreement: Double(agreements) / Double(n),
                              referencePerplexity: exp(referenceNLL / Double(n)),
                              candidatePerplexity: exp(candidateNLL / Double(n)))
    }

    /// The largest logit (as Double) and the first index holding it.
    private static func maxAndArgmax(_ x: UnsafeBufferPointer<Float>) -> (Double, Int) {
        var best = x[0], arg = 0
        for i in 1..<x.count where x[i] > best { best = x[i]; arg = i }
        return (Double(best), arg)
    }
}
