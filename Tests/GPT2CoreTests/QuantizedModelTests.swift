// The tiny fixture model served with quantized weights (int8, nf4 double-quantized, q4): every
// matrix (the four per layer and the tied LM head) is a PackedMatrix in the Tensor's storage; the
// token embedding lookup stays on the F32 wte. The reference is the same model with each matrix
// replaced by its DEQUANTIZED values in F32 (the forward pass as it ran before), so the only
// differences left are the products':
//  - prefill of 40 tokens (> 32 rows: W widened tile by tile into the F32 GEMM): the same values,
//    F32 rounding only — logits within 1e-4 of the reference's largest |logit|;
//  - decode steps (1–3 rows: int8 activations per block, int32 block sums): each product is off by
//    ≈ 1/254 of its activations' block absmax per term (QuantizedFormatTests bounds one product);
//    through this 32-channel model (one int8 block spans a whole activation row, so one outlier
//    sets every step) logits within 5 % of the reference's largest |logit| (measured 1–2.7 %);
//  - greedy decode is deterministic (the same tokens twice), and equals the reference's greedy
//    tokens for int8.
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct QuantizedModelTests {
    init() { if ComputeThreads.count < 2 { ComputeThreads.configure(2) } }

    /// The quantized model and its dequantized F32 twin, built from the F32 fixture.
    static func models(_ format: QuantFormat) throws -> (config: GPT2Config, packed: GPT2Weights, reference: GPT2Weights) {
        let base = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
        let w = base.weights
        var keep: [AnyObject] = [base]
        /// A matrix tensor → (packed tensor, dequantized F32 tensor in the checkpoint's layout).
        func convert(_ t: Tensor, conv1D: Bool) -> (Tensor, Tensor) {
            let (rows, cols) = (t.shape[0], t.shape[1])
            let (n, k) = conv1D ? (cols, rows) : (rows, cols)
            var outputMajor = [Float](repeating: 0, count: n * k)
            for j in 0..<n { for p in 0..<k { outputMajor[j * k + p] = conv1D ? t.data[p * cols + j] : t.data[j * k + p] } }
            let m = format.quantize(outputMajor, outputs: n, inputs: k)
            let deq = QuantTestData.dequantized(m)
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
            for j in 0..<n { for p in 0..<k { buf[conv1D ? p * n + j : j * k + p] = deq[j * k + p] } }
            keep.append(OwnedFloats(buf))
            return (Tensor(name: t.name, shape: t.shape, storage: .packed(m)),
                    Tensor(name: t.name, shape: t.shape, data: UnsafePointer(buf)))
        }
        var packedLayers: [GPT2LayerWeights] = [], refLayers: [GPT2LayerWeights] = []
        for l in w.layers {
            let qkv = convert(l.attnQKVWeight, conv1D: true), proj = convert(l.attnProjWeight, conv1D: true)
            let fc = convert(l.mlpFCWeight, conv1D: true), mproj = convert(l.mlpProjWeight, conv1D: true)
            func layer(_ pick: ((Tensor, Tensor)) -> Tensor) -> GPT2LayerWeights {
                GPT2LayerWeights(ln1Weight: l.ln1Weight, ln1Bias: l.ln1Bias, attnQKVWeight: pick(qkv),
                                 attnQKVBias: l.attnQKVBias, attnProjWeight: pick(proj), attnProjBias: l.attnProjBias,
                                 ln2Weight: l.ln2Weight, ln2Bias: l.ln2Bias, mlpFCWeight: pick(fc), mlpFCBias: l.mlpFCBias,
                                 mlpProjWeight: pick(mproj), mlpProjBias: l.mlpProjBias)
            }
            packedLayers.append(layer { $0.0 }); refLayers.append(layer { $0.1 })
        }
        let head = convert(w.lmHead, conv1D: false)
        func weights(_ layers: [GPT2LayerWeights], _ lmHead: Tensor) -> GPT2Weights {
            GPT2Weights(wte: w.wte, wpe: w.wpe, layers: layers, lnFWeight: w.lnFWeight, lnFBias: w.lnFBias,
                        lmHead: lmHead, heads: [:], storedDType: w.storedDType, storage: keep)
        }
        return (base.config, weights(packedLayers, head.0), weights(refLayers, head.1))
    }

    static func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }
    static func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    @Test(arguments: [QuantFormat.int8, .nf4, .q4])
    func logitsMatchTheDequantizedReference(_ format: QuantFormat) throws {
        let (c, packed, reference) = try Self.models(format)
        #expect(packed.lmHead.weightType == format.weightType && packed.layers[0].mlpFCWeight.packed != nil)
        var results: [[[Float]]] = []
        for w in [packed, reference] {
            let runner = GPT2Runner(config: c, weights: w)
            let pool = KVBlockPool(config: c, blockTokens: 16)
            let caches = (0..<3).map { _ in KVCache(pool: pool) }
            var steps: [[Float]] = []
            // Prefill: one sequence of 40 tokens (40 rows), then two short ones (batched decode-size).
            steps.append(try runner.forward([ForwardRequest(cache: caches[0], tokens: (0..<40).map { Int32(($0 * 37) % c.vocabSize) },
                                                            logits: .all)]).flatMap(\.logits))
            for s in 0..<6 {
                let r = try runner.forward(caches.enumerated().map { i, cache in
                    ForwardRequest(cache: cache, tokens: [Int32((s * 101 + i * 7) % c.vocabSize)], logits: .all)
                })
                steps.append(r.flatMap(\.logits))
            }
            results.append(steps)
        }
        for (s, (got, want)) in zip(results[0], results[1]).enumerated() {
            let scale = Self.maxAbs(want), diff = Self.maxDiff(got, want)
            let bound: Float = s == 0 ? 1e-4 : 0.05
            #expect(diff <= bound * scale, "\(format) step \(s): max |Δlogit| \(diff), scale \(scale)")
        }
    }

    @Test(arguments: [QuantFormat.int8, .nf4, .q4])
    func greedyDecodeIsStable(_ format: QuantFormat) throws {
        let (c, packed, reference) = try Self.models(format)
        let prompt: [Int32] = [464, 2068, 7586, 21831, 18045, 625, 262].map { $0 % Int32(c.vocabSize) }
        func greedy(_ w: GPT2Weights) throws -> [Int32] {
            let cache = KVCache(pool: KVBlockPool(config: c, blockTokens: 16))
            return try GPT2Runner(config: c, weights: w).greedy(prompt: prompt, maxNewTokens: 20, eosTokenID: nil, cache: cache)
        }
        let first = try greedy(packed)
        #expect(first.count == prompt.count + 20)
        #expect(try greedy(packed) == first, "\(format): greedy decode is not deterministic")
        if format == .int8 { #expect(try greedy(reference) == first, "int8 greedy differs from its dequantized reference") }
    }
}

/// Frees an F32 buffer when the weights that view it go away.
private final class OwnedFloats {
    let pointer: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>) { pointer = p }
    deinit { pointer.deallocate() }
}

extension QuantFormat {
    var weightType: WeightType {
        switch self {
        case .int8: return .int8
        case .nf4, .nf4Single: return .nf4
        case .q4: return .q4
        }
    }
}
