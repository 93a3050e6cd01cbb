// The tiny fixture model served with quantized weights (int8, nf4 double-quantized, q4) through
// LoadOptions.weightType: every matrix (the four per layer and the tied wte / LM head) is a
// PackedMatrix in the Tensor's storage. The reference is the same model with each matrix replaced
// by its DEQUANTIZED values in F32 (the forward pass as it runs for float32), so the only
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
    init() { TestThreads.configure() }

    /// The fixture loaded with `format`'s weight type (LoadOptions.weightType: every matrix, the
    /// tied wte / LM head included, quantized at load through PackedFormats), and its twin: the
    /// same weights with each packed matrix replaced by its dequantized values in F32.
    static func models(_ format: QuantFormat) throws -> (config: GPT2Config, packed: GPT2Weights, reference: GPT2Weights) {
        let model = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"), options: LoadOptions(weightType: format.weightType))
        let w = model.weights
        var keep: [AnyObject] = [model]
        /// A packed matrix tensor → its dequantized F32 values in the checkpoint's layout
        /// (Conv1D [K, N] for the layer matrices, Linear [N, K] for wte / the LM head).
        func widen(_ t: Tensor, conv1D: Bool) throws -> Tensor {
            let m = try #require(t.packed, "\(t.name) is not packed")
            #expect(type(of: m).weightType == format.weightType)
            let (n, k) = (m.outputs, m.inputs)
            #expect(t.shape == (conv1D ? [k, n] : [n, k]))
            let deq = QuantTestData.dequantized(m)
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
            for j in 0..<n { for p in 0..<k { buf[conv1D ? p * n + j : j * k + p] = deq[j * k + p] } }
            keep.append(OwnedFloats(buf))
            return Tensor(name: t.name, shape: t.shape, data: UnsafePointer(buf))
        }
        let layers = try w.layers.map { l in
            GPT2LayerWeights(ln1Weight: l.ln1Weight, ln1Bias: l.ln1Bias, attnQKVWeight: try widen(l.attnQKVWeight, conv1D: true),
                             attnQKVBias: l.attnQKVBias, attnProjWeight: try widen(l.attnProjWeight, conv1D: true),
                             attnProjBias: l.attnProjBias, ln2Weight: l.ln2Weight, ln2Bias: l.ln2Bias,
                             mlpFCWeight: try widen(l.mlpFCWeight, conv1D: true), mlpFCBias: l.mlpFCBias,
                             mlpProjWeight: try widen(l.mlpProjWeight, conv1D: true), mlpProjBias: l.mlpProjBias)
        }
        let head = try widen(w.lmHead, conv1D: false)
        let wte = w.wte.packed != nil ? try widen(w.wte, conv1D: false) : w.wte
        let reference = GPT2Weights(wte: wte, wpe: w.wpe, layers: layers, lnFWeight: w.lnFWeight, lnFBias: w.lnFBias,
                                    lmHead: head, heads: [:], storedDType: w.storedDType, weightType: .float32, storage: keep)
        return (model.config, w, reference)
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
            // Step 0 is a 40-row prefill: F32 tiles (the dequantized weights' own error only) unless
            // the format's integer product takes prefills too (activations quantized as in decode).
            let bound: Float = s == 0 && !QuantizedStorage.integerPrefill(format.weightType) ? 1e-4 : 0.05
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

    /// matmul_precision medium reaches every nf4 matrix (one-part 8-bit codes) and the model reports
    /// it; the bytes are the same, so the dequantized weights are too. int8 and q4 have no choice.
    @Test func mediumPrecisionReachesTheNF4Matrices() throws {
        let dir = Fixtures.model("tiny-gpt2")
        let highest = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .nf4))
        let medium = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .nf4, matmulPrecision: .medium))
        #expect(highest.weights.matmulPrecision == .highest)
        #expect(medium.weights.matmulPrecision == .medium)
        for (h, m) in zip(highest.weights.layers, medium.weights.layers) {
            for (a, b) in [(h.attnQKVWeight, m.attnQKVWeight), (h.attnProjWeight, m.attnProjWeight),
                           (h.mlpFCWeight, m.mlpFCWeight), (h.mlpProjWeight, m.mlpProjWeight)] {
                guard case .packed(let pa) = a.storage, case .packed(let pb) = b.storage else {
                    Issue.record("\(a.name) is not packed"); continue
                }
                #expect(pa.precision == .highest && pb.precision == .medium, "\(a.name)")
                #expect(QuantTestData.dequantized(pa) == QuantTestData.dequantized(pb), "\(a.name)")
            }
        }
        for type in [WeightType.int8, .q4] {
            let m = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: type, matmulPrecision: .medium))
            #expect(m.weights.matmulPrecision == .highest, "\(type)")
        }
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
        case .nf4, .nf4Single, .nf4Medium: return .nf4
        case .q4: return .q4
        case .fp4: return .fp4
        }
    }
}
