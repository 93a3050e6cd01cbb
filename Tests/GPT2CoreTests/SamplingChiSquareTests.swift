// Seeded categorical sampling follows the processed distribution: N = 20,000 draws over a fixed
// 12-token distribution with top-k / top-p / min-p / typical-p filtering; Pearson's chi-square
// against softmax(processed logits) stays below the p = 0.001 critical value (the seed is fixed,
// so the test is deterministic), and filtered tokens are never drawn.
import Foundation
import Testing
import GPT2Core

@Suite struct SamplingChiSquareTests {
    /// χ² critical values at p = 0.001 for df = 1…15.
    static let critical001: [Double] = [10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124,
                                        27.877, 29.588, 31.264, 32.909, 34.528, 36.123, 37.697]
    static let logits: [Float] = [2.0, 1.5, 1.4, 1.0, 0.6, 0.5, 0.0, -0.3, -1.0, -1.2, -2.0, 0.9]
    static let history: [Int32] = [0, 3, 3]

    static let settings: [SamplingParameters] = [
        SamplingParameters(doSample: true, temperature: 1, topK: 5, seed: 11),
        SamplingParameters(doSample: true, temperature: 0.8, topK: 0, topP: 0.8, seed: 12),
        SamplingParameters(doSample: true, temperature: 1.2, topK: 8, topP: 0.9, seed: 13),
        SamplingParameters(doSample: true, temperature: 1, topK: 0, seed: 14, minP: 0.2),
        SamplingParameters(doSample: true, temperature: 1, topK: 0, seed: 15, typicalP: 0.7),
        SamplingParameters(doSample: true, temperature: 1, topK: 0, seed: 16),
        SamplingParameters(doSample: true, temperature: 0.7, topK: 6, topP: 0.95, repetitionPenalty: 1.3, seed: 17),
    ]

    @Test(arguments: settings)
    func drawsFollowProcessedDistribution(_ p: SamplingParameters) {
        let n = 20_000
        var sampler = TokenSampler(p)
        let ctx = GenerationContext(history: Self.history, promptLength: Self.history.count)
        var processed = Self.logits
        sampler.processors.process(&processed, context: ctx)
        let lse = Sampling.logSumExp(processed)
        let probs = processed.map { $0 > -.infinity ? exp(Double($0) - lse) : 0 }
        var counts = [Int](repeating: 0, count: probs.count)
        for _ in 0..<n {
            var x = Self.logits
            counts[sampler.next(&x, context: ctx)] += 1
        }
        let kept = probs.indices.filter { probs[$0] > 0 }
        #expect(kept.count >= 2 && kept.count < probs.count || p.topK == 0 && p.topP == 1 && p.minP == 0 && p.typicalP == 1)
        for i in probs.indices where probs[i] == 0 { #expect(counts[i] == 0, "filtered token \(i) drawn \(counts[i]) times") }
        var chi2 = 0.0
        for i in kept {
            let e = probs[i] * Double(n)
            chi2 += (Double(counts[i]) - e) * (Double(counts[i]) - e) / e
        }
        let df = kept.count - 1
        #expect(chi2 < Self.critical001[df - 1], "χ² = \(chi2) with \(df) df; counts \(counts), p \(probs)")
    }

    @Test func sameSeedSameDraws() {
        let p = SamplingParameters(doSample: true, temperature: 1, topK: 0, seed: 42)
        var a = TokenSampler(p), b = TokenSampler(p)
        var c = TokenSampler(SamplingParameters(doSample: true, temperature: 1, topK: 0, seed: 43))
        let ctx = GenerationContext(history: [1], promptLength: 1)
        var da: [Int] = [], db: [Int] = [], dc: [Int] = []
        for _ in 0..<200 {
            var x = Self.logits, y = Self.logits, z = Self.logits
            da.append(a.next(&x, context: ctx)); db.append(b.next(&y, context: ctx)); dc.append(c.next(&z, context: ctx))
        }
        #expect(da == db)
        #expect(da != dc)
    }
}
