// bitsandbytes-saved checkpoints (issue #13 point 4) through the normal loader: the fixtures of
// scripts/make_bnb_fixtures.py (Tests/Fixtures/bnb: transformers 4.57.1 + bitsandbytes 0.50.2, CPU)
// are served in their own type — nf4 (single and double quantization), fp4, int8 — as packed
// matrices over the file's mapping, and compute what bitsandbytes' dequantized weights compute:
//  - every served matrix dequantizes to the values bitsandbytes' dequantize_4bit gives (bit for bit)
//    or, for int8, int8_vectorwise_dequant's within 5 ulps (q·(SCB/127) against (q·SCB)·(1/127));
//  - the logits of a 48-token prompt (> 32 rows: the product widens W to F32 tile by tile)
//    within 1e-4 of transformers' on a float model holding those dequantized weights;
//  - asked for another weight type, the checkpoint is dequantized first (float32: the same values,
//    viewed; int8 / q4: quantized from them).
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

enum BitsandbytesFixtures {
    static func directory(_ name: String) -> String { Fixtures.root + "/Tests/Fixtures/bnb/" + name }
    static let quantized = ["nf4", "nf4-double", "fp4", "int8"]

    /// The type a fixture's matrices are stored in.
    static func weightType(_ name: String) -> WeightType {
        ["nf4": .nf4, "nf4-double": .nf4, "fp4": .fp4, "int8": .int8][name]!
    }

    static func expected(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile.open(path: directory(name) + "/expected.safetensors")
    }
}

@Suite struct BitsandbytesCheckpointTests {
    init() { TestThreads.configure() }

    static func maxDiff(_ a: [Float], _ b: some Collection<Float>) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    /// The fixture's logits for input_ids.i, computed by `weights`, against transformers'.
    static func checkLogits(_ name: String, _ model: GPT2Model, label: String) throws {
        let expected = try BitsandbytesFixtures.expected(name)
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        for i in 0..<1 {
            let ids = try expected.int64s("input_ids.\(i)").map { Int32($0) }
            let cache = KVCache(pool: KVBlockPool(config: model.config, blockTokens: 16))
            let got = try runner.forward([ForwardRequest(cache: cache, tokens: ids, logits: .all)])[0].logits
            let want = try expected.floats("logits.\(i)")
            #expect(got.count == want.count)
            let diff = maxDiff(got, want), scale = want.reduce(0) { max($0, abs($1)) }
            #expect(diff <= 1e-4 * max(1, scale), "\(label) input \(i): max |Δlogit| \(diff) (scale \(scale))")
        }
    }

    /// Each body matrix is served in the checkpoint's type, its bytes copied into gpt2d's tiles.
    @Test(arguments: BitsandbytesFixtures.quantized)
    func servedInItsOwnType(_ name: String) throws {
        let model = try GPT2Model.load(directory: BitsandbytesFixtures.directory(name))
        let w = model.weights, type = BitsandbytesFixtures.weightType(name)
        #expect(w.weightType == type && w.format == .safetensors && w.quantization == .bitsandbytes)
        #expect(w.storedDType == "F32")
        for layer in w.layers {
            for t in [layer.attnQKVWeight, layer.attnProjWeight, layer.mlpFCWeight, layer.mlpProjWeight] {
                let p = try #require(t.packed, "\(t.name) is not packed")
                #expect(Swift.type(of: p).weightType == type)
                #expect(t.shape == [p.inputs, p.outputs], "\(t.name): Conv1D shape [K, N]")
            }
        }
        // bitsandbytes leaves the embeddings (and the tied LM head) float.
        #expect(w.wte.weightType == .float32 && w.isMapped(w.wte) && w.lmHead.sharesStorage(with: w.wte))
        if type != .int8 {
            let nf4 = w.layers[0].mlpFCWeight.packed
            #expect((nf4 as? NF4Matrix)?.doubleQuantized ?? (nf4 as? FP4Matrix)?.doubleQuantized == (name == "nf4-double"))
        }
        try Self.checkLogits(name, model, label: name)
    }

    /// The served matrices dequantize to bitsandbytes' own dequantized tensors ([out, in]).
    @Test(arguments: BitsandbytesFixtures.quantized)
    func matricesEqualBitsandbytesDequantized(_ name: String) throws {
        let model = try GPT2Model.load(directory: BitsandbytesFixtures.directory(name))
        let expected = try BitsandbytesFixtures.expected(name)
        for (key, t) in [("h.0.attn.c_proj", model.weights.layers[0].attnProjWeight), ("h.1.attn.c_proj", model.weights.layers[1].attnProjWeight)] {
            let want = try expected.floats("dequantized.\(key)")
            let got = QuantTestData.dequantized(try #require(t.packed))
            #expect(got.count == want.count)
            if name == "int8" {
                let worst = zip(got, want).map { abs($0 - $1) / max($1.magnitude.ulp, Float.leastNormalMagnitude) }.max() ?? 0
                #expect(worst <= 5, "\(key): \(worst) ulps from int8_vectorwise_dequant")
            } else {
                #expect(got == want, "\(key): max |Δ| \(Self.maxDiff(got, want))")
            }
        }
    }

    /// Another weight type dequantizes first: float32 holds bitsandbytes' values themselves (so its
    /// logits are the expected ones), int8 and q4 are quantized from them.
    @Test(arguments: BitsandbytesFixtures.quantized)
    func anotherWeightTypeDequantizesFirst(_ name: String) throws {
        let dir = BitsandbytesFixtures.directory(name)
        let f32 = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .float32))
        #expect(f32.weights.weightType == .float32 && f32.weights.quantization == .bitsandbytes)
        let qkv = f32.weights.layers[0].attnQKVWeight
        #expect(qkv.weightType == .float32 && qkv.shape == [64, 192])
        let own = try GPT2Model.load(directory: dir)
        let packed = try #require(own.weights.layers[0].attnQKVWeight.packed)
        let rows = QuantTestData.dequantized(packed)  // [192, 64], output-major
        let values = Array(qkv.buffer)                 // [64, 192], Conv1D
        var transposed = true
        for p in 0..<64 { for j in 0..<192 where values[p * 192 + j] != rows[j * 64 + p] { transposed = false } }
        #expect(transposed, "the float32 Conv1D weight is the packed rows transposed")
        try Self.checkLogits(name, f32, label: "\(name) as float32")
        let other: WeightType = BitsandbytesFixtures.weightType(name) == .int8 ? .q4 : .int8
        let converted = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: other))
        #expect(converted.weights.weightType == other && converted.weights.layers[1].mlpFCWeight.weightType == other)
    }

    /// Asking for the checkpoint's own type is the default load (nothing requantized).
    @Test func askingForItsOwnTypeServesTheStoredBytes() throws {
        let dir = BitsandbytesFixtures.directory("nf4-double")
        let asked = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .nf4))
        let stored = try GPT2Model.load(directory: dir)
        let a = try #require(asked.weights.layers[0].mlpProjWeight.packed), b = try #require(stored.weights.layers[0].mlpProjWeight.packed)
        #expect(a.segments.map { Array($0) } == b.segments.map { Array($0) })
        #expect((a as? NF4Matrix)?.doubleQuantized == true)
    }
}
