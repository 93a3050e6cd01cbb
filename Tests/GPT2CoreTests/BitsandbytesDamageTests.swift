// bitsandbytes checkpoints whose quantization state lies (issue #13 point 7): copies of the fixtures
// (Tests/Fixtures/bnb) with one tensor or the config changed are refused at load with a typed
// CheckpointError naming the file and the tensor — never served, never a crash.
import CKernels
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct BitsandbytesDamageTests {
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: [UInt8]
    }

    static let qkv = "transformer.h.0.attn.c_attn.weight"
    static let blob = qkv + ".quant_state.bitsandbytes__nf4"

    /// Every tensor of a fixture's model.safetensors, in file order.
    static func entries(_ fixture: String) throws -> [Entry] {
        let file = try SafeTensorsFile.open(path: BitsandbytesFixtures.directory(fixture) + "/model.safetensors")
        return try file.names.map { name in
            let info = file.info(name)!
            return Entry(name: name, dtype: info.dtype.rawValue, shape: info.shape, bytes: Array(try file.rawBytes(name)))
        }
    }

    /// A checkpoint directory holding `entries` and the fixture's config.json changed by `config`.
    static func write(_ entries: [Entry], from fixture: String, config: (String) -> String = { $0 }) throws -> String {
        let dir = makeTempDirectory("gpt2d-bnb-damage")
        var w = SafeTensorsWriter()
        for e in entries { w.add(e.name, dtype: e.dtype, shape: e.shape, bytes: e.bytes) }
        try w.write(to: dir + "/model.safetensors")
        let text = try String(contentsOfFile: BitsandbytesFixtures.directory(fixture) + "/config.json", encoding: .utf8)
        try writeFile(config(text), to: dir + "/config.json")
        return dir
    }

    /// `fixture` with tensor `name` changed by `change` (which may rename it).
    static func damaged(_ fixture: String, _ name: String, _ change: (inout Entry) -> Void) throws -> String {
        var all = try entries(fixture)
        let i = try #require(all.firstIndex { $0.name == name }, "no \(name) in \(fixture)")
        change(&all[i])
        return try write(all, from: fixture)
    }

    /// A quant_state blob with `old` replaced by `new` in its JSON text.
    static func blobEdit(_ old: String, _ new: String) -> (inout Entry) -> Void {
        { e in
            let text = String(decoding: e.bytes, as: UTF8.self)
            precondition(text.contains(old), "blob \(text) has no \(old)")
            e.bytes = Array(text.replacingOccurrences(of: old, with: new).utf8)
            e.shape = [e.bytes.count]
        }
    }

    /// Loading `dir` throws badQuantization naming `tensor` in its model.safetensors.
    static func expectRefused(_ dir: String, tensor: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        defer { removeDirectory(dir) }
        do {
            _ = try GPT2Model.load(directory: dir)
            Issue.record("loaded a damaged checkpoint", sourceLocation: sourceLocation)
        } catch let CheckpointError.badQuantization(file, named, why) {
            #expect(named == tensor, "named \(named)", sourceLocation: sourceLocation)
            #expect(file.hasSuffix(tensor == "quantization_config" ? "config.json" : "model.safetensors"), sourceLocation: sourceLocation)
            #expect(why.contains(reason), "reason: \(why)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func anUndamagedCopyLoads() throws {
        let dir = try Self.write(try Self.entries("nf4-double"), from: "nf4-double")
        defer { removeDirectory(dir) }
        #expect(try GPT2Model.load(directory: dir).weights.weightType == .nf4)
    }

    @Test func aBlobWhoseShapeDoesNotFitThePackedBytes() throws {
        Self.expectRefused(try Self.damaged("nf4-double", Self.blob, Self.blobEdit("[192, 64]", "[192, 32]")),
                           tensor: Self.qkv, reason: "packs into")
    }

    @Test func aBlobWhoseShapeIsTransposedDisagreesWithTheConfig() throws {
        let dir = try Self.damaged("nf4-double", Self.blob, Self.blobEdit("[192, 64]", "[64, 192]"))
        defer { removeDirectory(dir) }
        #expect(throws: CheckpointError.wrongShape(file: dir + "/model.safetensors", tensor: Self.qkv, expected: [64, 192], found: [192, 64])) {
            _ = try GPT2Model.load(directory: dir)
        }
    }

    @Test func anotherBlocksize() throws {
        Self.expectRefused(try Self.damaged("nf4-double", Self.blob, Self.blobEdit("\"blocksize\": 64", "\"blocksize\": 128")),
                           tensor: Self.blob, reason: "blocksize")
    }

    @Test func anAbsmaxCountThatDisagrees() throws {
        Self.expectRefused(try Self.damaged("nf4-double", Self.qkv + ".absmax") { $0.bytes.removeLast(); $0.shape = [$0.bytes.count] },
                           tensor: Self.qkv + ".absmax", reason: "values where")
    }

    @Test func aTruncatedPackedTensor() throws {
        Self.expectRefused(try Self.damaged("nf4-double", Self.qkv) { $0.bytes.removeLast(64); $0.shape = [$0.bytes.count, 1] },
                           tensor: Self.qkv, reason: "holds")
    }

    @Test func anUnknownQuantType() throws {
        let int4 = Self.qkv + ".quant_state.bitsandbytes__int4"
        Self.expectRefused(try Self.damaged("nf4-double", Self.blob) { e in
            Self.blobEdit("\"nf4\"", "\"int4\"")(&e)
            e.name = int4
        }, tensor: int4, reason: "quant_type")
    }

    @Test func anOversizeBlob() throws {
        Self.expectRefused(try Self.damaged("nf4-double", Self.blob) { $0.bytes += [UInt8](repeating: 0x20, count: 5000); $0.shape = [$0.bytes.count] },
                           tensor: Self.blob, reason: "bytes")
    }

    @Test func aBlobThatIsNotJSON() throws {
        Self.expectRefused(try Self.damaged("nf4-double", Self.blob) { $0.bytes.removeLast(3); $0.shape = [$0.bytes.count] },
                           tensor: Self.blob, reason: "not JSON")
    }

    @Test func anotherCodeBook() throws {
        Self.expectRefused(try Self.damaged("nf4", Self.qkv + ".quant_map") { $0.bytes[0] ^= 1 },
                           tensor: Self.qkv + ".quant_map", reason: "code book")
    }

    @Test func aConfigThatSaysAnotherQuantization() throws {
        let dir = try Self.write(try Self.entries("nf4"), from: "nf4") { text in
            text.replacingOccurrences(of: "\"load_in_4bit\": true", with: "\"load_in_4bit\": false")
                .replacingOccurrences(of: "\"load_in_8bit\": false", with: "\"load_in_8bit\": true")
        }
        Self.expectRefused(dir, tensor: "quantization_config", reason: "int8")
    }

    @Test func anInt8ScaleCountThatDisagrees() throws {
        let scb = "transformer.h.1.mlp.c_fc.SCB"
        Self.expectRefused(try Self.damaged("int8", scb) { $0.bytes.removeLast(4); $0.shape = [$0.bytes.count / 4] },
                           tensor: scb, reason: "values where")
    }

    @Test func anInt8LayoutOtherThanRows() throws {
        let format = "transformer.h.0.mlp.c_proj.weight_format"
        Self.expectRefused(try Self.damaged("int8", format) { $0.bytes = [1] }, tensor: format, reason: "row-major")
    }
}

/// bitsandbytes' flat blocks when K is not a multiple of 64 (they then run across rows): models/
/// tiny-hub (n_embd 32) written as bitsandbytes saves nf4 — each body matrix transposed to [N, K] and
/// quantized over its N·K values in order (NF4Matrix over one row of N·K values is exactly that) — and
/// with no quantization_config in config.json (the tensors alone say what they are).
@Suite struct BitsandbytesCrossRowBlockTests {
    static let bodyMatrices = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]

    /// The directory, and each matrix's bitsandbytes-dequantized values as the Conv1D [K, N] weight.
    static func tinyHubAsNF4() throws -> (dir: String, values: [String: [Float]]) {
        let source = try SafeTensorsFile.open(path: Fixtures.model("tiny-hub") + "/model.safetensors")
        let code = withUnsafeBytes(of: ck_nf4_code) { Array($0.bindMemory(to: Float.self)) }
        var w = SafeTensorsWriter(), values: [String: [Float]] = [:]
        for name in source.names {
            let info = source.info(name)!
            guard Self.bodyMatrices.contains(where: { name.hasSuffix($0) }) else {
                w.add(name, dtype: info.dtype.rawValue, shape: info.shape, bytes: Array(try source.rawBytes(name)))
                continue
            }
            let (k, n) = (info.shape[0], info.shape[1]), conv = try source.floats(name)
            let flat = (0..<(n * k)).map { i in conv[(i % k) * n + i / k] }  // [N, K] row-major
            let m = NF4Matrix(quantizing: flat, outputs: 1, inputs: n * k, doubleQuantization: false)
            let deq = QuantTestData.dequantized(m)
            values[name] = (0..<(n * k)).map { i in deq[(i % n) * k + i / n] }  // back to [K, N]
            let theirs = m.bitsandbytesLayout()
            w.add(name, dtype: "U8", shape: [n * k / 2, 1], bytes: theirs.packed)
            w.add(name + ".absmax", dtype: "F32", shape: [n * k / 64], bytes: theirs.scales)
            w.add(name + ".quant_map", shape: [16], floats: code)
            let blob = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [\(n), \(k)]}"
            w.add(name + ".quant_state.bitsandbytes__nf4", dtype: "U8", shape: [blob.utf8.count], bytes: Array(blob.utf8))
        }
        let dir = makeTempDirectory("gpt2d-bnb-cross-row")
        try w.write(to: dir + "/model.safetensors")
        try writeFile(try String(contentsOfFile: Fixtures.model("tiny-hub") + "/config.json", encoding: .utf8), to: dir + "/config.json")
        return (dir, values)
    }

    @Test func servedInItsOwnTypeIsRefusedNamingTheMatrix() throws {
        let (dir, _) = try Self.tinyHubAsNF4()
        BitsandbytesDamageTests.expectRefused(dir, tensor: "h.0.attn.c_attn.weight", reason: "not a multiple of 64")
    }

    @Test func anotherWeightTypeDequantizesAcrossRows() throws {
        let (dir, values) = try Self.tinyHubAsNF4()
        defer { removeDirectory(dir) }
        let model = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .float32))
        #expect(model.weights.quantization == .bitsandbytes)
        for (l, layer) in model.weights.layers.enumerated() {
            for t in [layer.attnQKVWeight, layer.attnProjWeight, layer.mlpFCWeight, layer.mlpProjWeight] {
                #expect(Array(t.buffer) == values[t.name], "layer \(l) \(t.name)")
            }
        }
    }
}
