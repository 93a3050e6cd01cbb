// .gguf files (Tests/Fixtures/gguf, written with llama.cpp's gguf-py: scripts/make_gguf_fixtures.py)
// through the normal load path (issue #13 points 5, 6): F32, F16, Q8_0, Q4_0 and Q6_K files compute
// the logits transformers computes from gguf-py's dequantized weights within 1e-4; every sampled row
// of a quantized tensor is bit-equal to gguf-py's dequantization; a Q4_0 file is served as q4 with
// exactly those values; the rules that find a GGUF file in a directory.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// Logits of `ids` at every position.
private func logits(_ config: GPT2Config, _ weights: GPT2Weights, _ ids: [Int32]) throws -> [Float] {
    let runner = GPT2Runner(config: config, weights: weights)
    let cache = KVCache(pool: KVBlockPool(config: config, blockTokens: 8))
    return try runner.forward([ForwardRequest(cache: cache, tokens: ids, logits: .all, hidden: .none)])[0].logits
}

/// The expected values of a fixture.
private struct Expected {
    let ids: [Int32]
    let logits: [Float]
    /// GGUF tensor name → (row indices, those rows' dequantized values, row-major).
    let rows: [String: (ids: [Int], values: [Float])]

    init(_ f: GGUFFixtures.Fixture) throws {
        let file = try SafeTensorsFile.open(path: f.expectedPath)
        ids = try file.int64s("input_ids").map { Int32($0) }
        logits = try file.floats("logits")
        var rows: [String: (ids: [Int], values: [Float])] = [:]
        for name in file.names where name.hasPrefix("rows.") {
            let tensor = String(name.dropFirst("rows.".count))
            rows[tensor] = (ids: try file.int64s("row_ids." + tensor).map { Int($0) }, values: try file.floats(name))
        }
        self.rows = rows
    }
}

/// Row `j` of GGUF tensor `name` (its output-major row: a Conv1D tensor's column) from the loaded weights.
private func ggufRow(_ w: GPT2Weights, _ name: String, _ j: Int) throws -> [Float] {
    if name == "token_embd.weight" || name == "output.weight" || name == "position_embd.weight" {
        let t = name == "token_embd.weight" ? w.wte : name == "output.weight" ? w.lmHead : w.wpe
        let width = t.shape[1]
        return Array(t.floats()[(j * width)..<((j + 1) * width)])
    }
    let parts = name.split(separator: ".")
    let layer = w.layers[Int(parts[1])!]
    let t: Tensor
    switch parts[2] {
    case "attn_qkv": t = layer.attnQKVWeight
    case "attn_output": t = layer.attnProjWeight
    case "ffn_up": t = layer.mlpFCWeight
    default: t = layer.mlpProjWeight
    }
    let (k, n) = (t.shape[0], t.shape[1]), all = t.floats()
    if t.packed != nil { return Array(all[(j * k)..<((j + 1) * k)]) }  // packed: output-major already
    return (0..<k).map { all[$0 * n + j] }
}

private func worst(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) } }

@Suite struct GGUFCheckpointTests {
    @Test func manifestCoversEveryType() {
        let types = Set(GGUFFixtures.all.flatMap { $0.types.values })
        #expect(types.isSuperset(of: ["F32", "F16", "Q8_0", "Q4_0", "Q6_K"]))
        #expect(GGUFFixtures.all.contains { !$0.tied })
    }

    @Test("logits equal transformers' over gguf-py's dequantized weights (1e-4)", arguments: GGUFFixtures.all)
    func logitsEqualTheDequantizedWeights(_ f: GGUFFixtures.Fixture) throws {
        let expected = try Expected(f)
        // Served as float32 (every type: dequantized / widened exactly), and in its default type.
        let (c, w) = try CheckpointLoader.load(directory: f.path, options: LoadOptions(weightType: .float32))
        #expect(w.format == .gguf && c.tieWordEmbeddings == f.tied)
        let a = try logits(c, w, expected.ids)
        #expect(a.count == expected.logits.count)
        #expect(worst(a, expected.logits) <= 1e-4, "\(f): max |Δlogit| = \(worst(a, expected.logits))")
        let (_, served) = try CheckpointLoader.load(directory: f.path)
        #expect(served.weightType.rawValue == f.servedWeightType)
        if served.weightType != .q4 {
            let b = try logits(c, served, expected.ids)
            #expect(worst(b, expected.logits) <= 1e-4, "\(f) as \(served.weightType): max |Δlogit| = \(worst(b, expected.logits))")
        }
    }

    @Test("dequantized values are bit-equal to gguf-py's", arguments: GGUFFixtures.all.filter { f in f.types.values.contains { $0.hasPrefix("Q") } })
    func dequantizedRowsAreBitEqual(_ f: GGUFFixtures.Fixture) throws {
        let expected = try Expected(f)
        #expect(!expected.rows.isEmpty)
        let (_, w) = try CheckpointLoader.load(directory: f.path, options: LoadOptions(weightType: .float32))
        for (name, (ids, values)) in expected.rows.sorted(by: { $0.key < $1.key }) {
            let width = values.count / ids.count
            for (i, j) in ids.enumerated() {
                #expect(try ggufRow(w, name, j) == Array(values[(i * width)..<((i + 1) * width)]), "\(f) \(name) row \(j)")
            }
        }
    }

    @Test func q4_0IsServedAsQ4WithExactlyItsValues() throws {
        let f = GGUFFixtures.fixture("tiny-q4_0")
        let expected = try Expected(f)
        let (c, q4) = try CheckpointLoader.load(directory: f.path)
        let (_, f32) = try CheckpointLoader.load(directory: f.path, options: LoadOptions(weightType: .float32))
        #expect(q4.weightType == .q4)
        let matrices = [("token_embd.weight", q4.wte, f32.wte)] + (0..<c.nLayer).flatMap { l in
            [("blk.\(l).attn_qkv.weight", q4.layers[l].attnQKVWeight, f32.layers[l].attnQKVWeight),
             ("blk.\(l).attn_output.weight", q4.layers[l].attnProjWeight, f32.layers[l].attnProjWeight),
             ("blk.\(l).ffn_up.weight", q4.layers[l].mlpFCWeight, f32.layers[l].mlpFCWeight),
             ("blk.\(l).ffn_down.weight", q4.layers[l].mlpProjWeight, f32.layers[l].mlpProjWeight)]
        }
        for (name, packed, float) in matrices {
            let m = try #require(packed.packed as? Q4Matrix, "\(name) is not a q4 matrix")
            #expect(packed.shape == float.shape)
            // Every row of the q4 matrix equals the Q4_0 dequantization (both ±0 compare equal).
            for j in 0..<m.outputs { #expect(try ggufRow(q4, name, j) == ggufRow(f32, name, j), "\(name) row \(j)") }
            if let (ids, values) = expected.rows[name] {
                for (i, j) in ids.enumerated() { #expect(try ggufRow(q4, name, j) == Array(values[(i * m.inputs)..<((i + 1) * m.inputs)])) }
            }
        }
        // q4 serving computes close to its dequantized weights (its products quantize activations to int8).
        let expectedLogits = expected.logits, served = try logits(c, q4, expected.ids)
        let scale = expectedLogits.map(abs).max() ?? 1
        #expect(worst(served, expectedLogits) <= 0.1 * scale)
    }

    @Test func aMixedFileServesEachMatrixInItsOwnPrecision() throws {
        // Q4_0 blocks with a Q8_0 token_embd (llama-quantize's mix): q4 blocks, an F32 embedding.
        let f = GGUFFixtures.fixture("tiny-q4_0-mixed")
        let (c, w) = try CheckpointLoader.load(directory: f.path)
        #expect(w.weightType == .q4 && w.wte.packed == nil && w.wte.weightType == .float32)
        #expect(w.layers.allSatisfy { $0.mlpFCWeight.packed is Q4Matrix && $0.attnProjWeight.packed is Q4Matrix })
        // The F32 twins of the q4 matrices are not kept: the one mapping left is the embedding's F32 values.
        #expect(w.mappedFiles.count == 1 && w.mappedByteCount == c.vocabSize * c.nEmbd * 4, "\(w.mappedFiles.map(\.path))")
        let expected = try Expected(f)
        for (name, (ids, values)) in expected.rows {
            let width = values.count / ids.count
            for (i, j) in ids.enumerated() { #expect(try ggufRow(w, name, j) == Array(values[(i * width)..<((i + 1) * width)]), "\(name)") }
        }
        let scale = expected.logits.map(abs).max() ?? 1
        #expect(worst(try logits(c, w, expected.ids), expected.logits) <= 0.1 * scale)
    }

    @Test func otherWeightTypesConvertFromTheDequantizedValues() throws {
        let f = GGUFFixtures.fixture("tiny-q8_0")
        let (c, bf16) = try CheckpointLoader.load(directory: f.path, options: LoadOptions(weightType: .bfloat16))
        #expect(bf16.weightType == .bfloat16 && bf16.wte.half != nil && !c.tieWordEmbeddings)
        let (_, f32) = try CheckpointLoader.load(directory: f.path, options: LoadOptions(weightType: .float32))
        // bfloat16 of each dequantized value (round to nearest even), never the file's int8 codes.
        let narrowed = f32.lmHead.floats().map { v -> Float in
            let bits = v.bitPattern, rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
            return Float(bitPattern: rounded & 0xffff_0000)
        }
        #expect(bf16.lmHead.floats() == narrowed)
        // weight_type q4 on a Q4_0 file keeps its values exactly (no requantization).
        let q4f = GGUFFixtures.fixture("tiny-q4_0")
        let (_, asked) = try CheckpointLoader.load(directory: q4f.path, options: LoadOptions(weightType: .q4))
        let (_, plain) = try CheckpointLoader.load(directory: q4f.path, options: LoadOptions(weightType: .float32))
        #expect(try ggufRow(asked, "blk.0.ffn_down.weight", 3) == ggufRow(plain, "blk.0.ffn_down.weight", 3))
    }

    @Test func f32TensorsAreViewsOfTheFile() throws {
        let (_, w) = try CheckpointLoader.load(directory: GGUFFixtures.fixture("tiny-f32").path)
        #expect(w.weightType == .float32 && w.isMapped(w.wte) && w.isMapped(w.wpe))
        let (_, h) = try CheckpointLoader.load(directory: GGUFFixtures.fixture("tiny-f16").path)
        #expect(h.weightType == .float16 && h.wte.half != nil && h.isMapped(h.wte))
        // The block matrices are stored [out, in] and copied transposed into Conv1D's [in, out].
        #expect(h.layers[0].attnQKVWeight.half != nil && h.layers[0].attnQKVWeight.shape == [32, 96])
    }

    @Test func theF32FileEqualsItsSafetensorsTwin() throws {
        let f = GGUFFixtures.fixture("tiny-f32")
        let gguf = try GPT2Model.load(directory: f.path)
        let twin = try GPT2Model.load(directory: Fixtures.root + "/Tests/Fixtures/" + f.twin!)
        #expect(gguf.config.vocabSize == twin.config.vocabSize && gguf.config.nInner == twin.config.nInner)
        let ids = try Expected(f).ids
        #expect(try logits(gguf.config, gguf.weights, ids) == logits(twin.config, twin.weights, ids))
        #expect(gguf.weights.embeddedTokenizer?.tokens.count == 1000)
    }

    @Test func aDirectoryIsReadAsGGUFOnlyWithoutOtherWeights() throws {
        let dir = makeTempDirectory("gguf-dir"); defer { removeDirectory(dir) }
        try FileManager.default.copyItem(atPath: GGUFFixtures.fixture("tiny-q8_0").path, toPath: dir + "/gpt2-q8_0.gguf")
        let (c, w) = try CheckpointLoader.load(directory: dir)
        #expect(w.format == .gguf && !c.tieWordEmbeddings)
        // With safetensors (and its config.json) beside it, the safetensors checkpoint is read.
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: Fixtures.model("tiny-hub") + "/" + name, toPath: dir + "/" + name)
        }
        #expect(try CheckpointLoader.load(directory: dir).weights.format == .safetensors)
        // Two .gguf files and nothing else: refused, naming both.
        let two = makeTempDirectory("gguf-two"); defer { removeDirectory(two) }
        for name in ["a.gguf", "b.gguf"] { try FileManager.default.copyItem(atPath: GGUFFixtures.fixture("tiny-q4_0").path, toPath: two + "/" + name) }
        #expect(throws: CheckpointError.cannotOpen(path: two, reason: "it holds 2 .gguf files (a.gguf, b.gguf); give the path of the one to serve")) {
            try CheckpointLoader.load(directory: two)
        }
    }
}
