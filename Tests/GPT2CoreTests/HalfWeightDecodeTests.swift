// F16/BF16 checkpoints compute from their 16-bit weights in the file mapping (Tensor.half): the
// committed tiny-f16 / tiny-bf16 fixtures load with half views on every matmul weight, and the
// runner's logits and greedy tokens equal those of the same weights widened to an F32 copy (the
// F32 path). The goldens against transformers (GoldenTests) cover both paths' accuracy.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct HalfWeightDecodeTests {
    init() { TestThreads.configure() }

    static func maxRelDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(abs($1.1), 1e-6)) }
    }

    @Test func f32CheckpointHasNoHalfViews() throws {
        let model = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
        #expect(model.weights.lmHead.half == nil)
        #expect(model.weights.layers.allSatisfy { $0.attnQKVWeight.half == nil && $0.mlpFCWeight.half == nil })
    }

    @Test(arguments: [("tiny-f16", HalfView.Kind.f16), ("tiny-bf16", .bf16)])
    func halfViewsDecodeLikeF32(_ fixture: (String, HalfView.Kind)) throws {
        let (name, kind) = fixture
        let model = try GPT2Model.load(directory: Fixtures.model(name))
        let w16 = model.weights, w32 = w16.withoutHalfViews()
        let c = model.config

        // Every matmul weight is a view of its stored values, of the checkpoint's kind, inside the
        // mapping, and the view's values are the widened F32 copy's.
        var matmulWeights = [w16.lmHead]
        for l in w16.layers { matmulWeights += [l.attnQKVWeight, l.attnProjWeight, l.mlpFCWeight, l.mlpProjWeight] }
        var widened = [w32.lmHead]
        for l in w32.layers { widened += [l.attnQKVWeight, l.attnProjWeight, l.mlpFCWeight, l.mlpProjWeight] }
        for (t, t32) in zip(matmulWeights, widened) {
            let h = try #require(t.half, "\(name) \(t.name) has no half view")
            #expect(h.kind == kind)
            #expect(w16.isMapped(t), "\(name) \(t.name): not in the mapping")
            let bits = (0..<t.count).map { h.data.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) }
            let up = bits.map { kind == .f16 ? float32(fromF16Bits: $0) : float32(fromBF16Bits: $0) }
            #expect(up.elementsEqual(t32.buffer), "\(name) \(t.name): half view ≠ F32 copy")
        }
        #expect(w32.lmHead.half == nil && w32.layers.allSatisfy { $0.mlpProjWeight.half == nil })

        // Greedy decode: identical tokens.
        let prompt: [Int32] = [464, 2068, 7586, 21831, 18045, 625, 262].map { $0 % Int32(c.vocabSize) }
        var outs: [[Int32]] = []
        for w in [w16, w32] {
            let runner = GPT2Runner(config: c, weights: w)
            let cache = KVCache(pool: KVBlockPool(config: c, blockTokens: 16))
            outs.append(try runner.greedy(prompt: prompt, maxNewTokens: 24, eosTokenID: nil, cache: cache))
        }
        #expect(outs[0] == outs[1], "\(name): greedy tokens differ")

        // Logits of a prefill (20 rows: the GEMM reading 16 bits vs the F32 one) and of batched decode
        // steps (3 sequences, ≤ 16 rows: the 16-bit kernels vs the F32 ones), per step ≤ 1e-6 relative.
        var logits: [[[Float]]] = []
        for w in [w16, w32] {
            let runner = GPT2Runner(config: c, weights: w)
            let pool = KVBlockPool(config: c, blockTokens: 8)
            let caches = (0..<3).map { _ in KVCache(pool: pool) }
            var steps: [[Float]] = []
            let first = try runner.forward(caches.enumerated().map { i, cache in
                ForwardRequest(cache: cache, tokens: (0..<(20 - 5 * i)).map { Int32(($0 * 37 + i) % c.vocabSize) }, logits: .all)
            })
            steps.append(first.flatMap(\.logits))
            for s in 0..<8 {
                let r = try runner.forward(caches.enumerated().map { i, cache in
                    ForwardRequest(cache: cache, tokens: [Int32((s * 101 + i * 7) % c.vocabSize)], logits: .all)
                })
                steps.append(r.flatMap(\.logits))
            }
            logits.append(steps)
        }
        for (s, (a, b)) in zip(logits[0], logits[1]).enumerated() {
            #expect(Self.maxRelDiff(a, b) <= 1e-6, "\(name) step \(s): logits differ")
        }
    }
}
