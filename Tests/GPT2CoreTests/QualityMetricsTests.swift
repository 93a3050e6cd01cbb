// QualityAccumulator (Tests/GPT2TestSupport/QualityMetrics.swift) on hand-made distributions whose
// KL divergence, agreement and perplexity are known in closed form.
import Foundation
import Testing
import GPT2TestSupport

@Suite struct QualityMetricsTests {
    private func close(_ a: Double, _ b: Double, _ tol: Double = 1e-12) -> Bool { abs(a - b) <= tol }

    @Test func identicalDistributionsHaveZeroDivergence() {
        var acc = QualityAccumulator()
        let rows: [[Float]] = [[0.5, -1, 3, 2.25], [10, 10, -4, 0], [-0.125, 7, 7.5, 1]]
        for (i, r) in rows.enumerated() { acc.add(reference: r[...], candidate: r[...], target: i) }
        let s = acc.summary
        #expect(acc.kl == [0, 0, 0])            // exactly, not approximately
        #expect(s.positions == 3 && s.klMean == 0 && s.klP99 == 0)
        #expect(s.top1Agreement == 1)
        #expect(s.perplexityRatio == 1)
    }

    @Test func twoTokenDivergenceInBothDirections() {
        // p = (1/2, 1/2), q = (3/4, 1/4): KL(p‖q) = ½ ln(4/3), KL(q‖p) = ¾ ln(3/2) + ¼ ln(1/2).
        let p: [Float] = [0, 0], q: [Float] = [Float(log(3.0)), 0]
        var pq = QualityAccumulator(), qp = QualityAccumulator()
        pq.add(reference: p[...], candidate: q[...], target: 0)
        qp.add(reference: q[...], candidate: p[...], target: 0)
        #expect(close(pq.summary.klMean, 0.5 * log(4.0 / 3.0), 1e-7))
        #expect(close(qp.summary.klMean, 0.75 * log(1.5) + 0.25 * log(0.5), 1e-7))
        #expect(pq.summary.klMean > qp.summary.klMean)   // not symmetric
    }

    @Test func logitOffsetsDoNotMatter() {
        var shifted = QualityAccumulator()
        let r: [Float] = [1, 2, 3, 4, 5]
        shifted.add(reference: r[...], candidate: r.map { $0 + 40 }[...], target: 2)
        #expect(close(shifted.summary.klMean, 0, 1e-12))
        #expect(close(shifted.summary.perplexityRatio, 1, 1e-12))
    }

    @Test func perplexityOfKnownProbabilities() {
        // Uniform over V ids: perplexity V. Target probability 3/4 and 1/4 over two positions:
        // exp(−(ln ¾ + ln ¼)/2) = 1/√(3/16) = 4/√3.
        var uniform = QualityAccumulator()
        let flat = [Float](repeating: -2, count: 50257)
        uniform.add(reference: flat[...], candidate: flat[...], target: 123)
        #expect(close(uniform.summary.referencePerplexity, 50257, 1e-6))
        var known = QualityAccumulator()
        let ref: [Float] = [0, Float(log(3.0))]          // p = (1/4, 3/4)
        let cand: [Float] = [0, 0]                         // q = (1/2, 1/2)
        known.add(reference: ref[...], candidate: cand[...], target: 1)
        known.add(reference: ref[...], candidate: cand[...], target: 0)
        let s = known.summary
        #expect(close(s.referencePerplexity, 4 / 3.0.squareRoot(), 1e-6))
        #expect(close(s.candidatePerplexity, 2, 1e-6))
        #expect(close(s.perplexityRatio, 2 / (4 / 3.0.squareRoot()), 1e-6))
    }

    @Test func topOneAgreementCountsMatchingArgmax() {
        var acc = QualityAccumulator()
        acc.add(reference: [0, 5, 1][...], candidate: [0, 4, 1][...], target: 0)   // both pick 1
        acc.add(reference: [0, 5, 1][...], candidate: [0, 1, 4][...], target: 0)   // 1 vs 2
        acc.add(reference: [3, 1, 1][...], candidate: [9, 1, 1][...], target: 0)   // both pick 0
        acc.add(reference: [3, 1, 1][...], candidate: [1, 1, 9][...], target: 0)   // 0 vs 2
        #expect(acc.summary.top1Agreement == 0.5)
    }

    @Test func meanAndNearestRankP99() {
        // 98 identical positions, then two that differ by known amounts: the nearest-rank p99 of
        // 100 values is the 99th smallest, i.e. the smaller of the two non-zero values.
        let p: [Float] = [0, 0], small: [Float] = [Float(log(3.0)), 0], large: [Float] = [Float(log(9.0)), 0]
        var acc = QualityAccumulator()
        for _ in 0..<98 { acc.add(reference: p[...], candidate: p[...], target: 0) }
        acc.add(reference: p[...], candidate: large[...], target: 0)
        acc.add(reference: p[...], candidate: small[...], target: 0)
        let klSmall = 0.5 * log(4.0 / 3.0)                      // q = (3/4, 1/4)
        let klLarge = 0.5 * log(0.5 / 0.9) + 0.5 * log(0.5 / 0.1) // q = (9/10, 1/10)
        let s = acc.summary
        #expect(s.positions == 100)
        #expect(close(s.klP99, klSmall, 1e-7))
        #expect(close(s.klMean, (klSmall + klLarge) / 100, 1e-8))
    }
}
