// CheckpointLoaderTests — whole checkpoint directories written by TinyCheckpoint: both key
// layouts, dtypes, shards, heads, zero-copy F32, and every inconsistency as a typed error.

import Foundation
import Testing
import GPT2Core
import GPT2TestSupport

private let tiny = TinyCheckpoint.tinyConfig

/// Writes a tiny checkpoint into a fresh directory and passes it to `body`.
@discardableResult
private func withCheckpoint<T>(_ config: GPT2Config = tiny, _ options: TinyCheckpoint.Options = .init(),
                               configText: String? = nil, _ body: (String) throws -> T) throws -> T {
    let dir = makeTempDirectory("ckpt"); defer { removeDirectory(dir) }
    try TinyCheckpoint.write(config: config, to: dir, options: options, configText: configText)
    return try body(dir)
}

private func options(_ edit: (inout TinyCheckpoint.Options) -> Void) -> TinyCheckpoint.Options {
    var o = TinyCheckpoint.Options(); edit(&o); return o
}

/// Every tensor of `w` as (normalised name → values), for whole-model comparisons.
private func allValues(_ w: GPT2Weights) -> [String: [Float]] {
    var out: [String: [Float]] = [:]
    func put(_ t: Tensor) { out[t.name] = Array(t.buffer) }
    put(w.wte); put(w.wpe); put(w.lnFWeight); put(w.lnFBias)
    out["(lmHead)"] = Array(w.lmHead.buffer)
    for l in w.layers {
        for t in [l.ln1Weight, l.ln1Bias, l.attnQKVWeight, l.attnQKVBias, l.attnProjWeight, l.attnProjBias,
                  l.ln2Weight, l.ln2Bias, l.mlpFCWeight, l.mlpFCBias, l.mlpProjWeight, l.mlpProjBias] { put(t) }
    }
    for (k, t) in w.heads { out["head:" + k] = Array(t.buffer) }
    return out
}

private func allTensors(_ w: GPT2Weights) -> [Tensor] {
    [w.wte, w.wpe, w.lnFWeight, w.lnFBias] + w.layers.flatMap {
        [$0.ln1Weight, $0.ln1Bias, $0.attnQKVWeight, $0.attnQKVBias, $0.attnProjWeight, $0.attnProjBias,
         $0.ln2Weight, $0.ln2Bias, $0.mlpFCWeight, $0.mlpFCBias, $0.mlpProjWeight, $0.mlpProjBias]
    }
}

@Suite struct CheckpointLoaderPositiveTests {
    @Test func loadsBareF32WithExactValuesAndNoCopies() throws {
        try withCheckpoint { dir in
            let (config, w) = try CheckpointLoader.load(directory: dir)
            #expect(config == tiny)
            #expect(w.storedDType == "F32")
            #expect(w.layers.count == 2)
            for (key, shape) in TinyCheckpoint.bodyShapes(tiny) {
                let t = try #require(allTensors(w).first { $0.name == key }, "\(key) missing")
                #expect(t.shape == shape, "\(key)")
                #expect(Array(t.buffer) == TinyCheckpoint.values(for: key, count: t.count), "\(key)")
            }
            // Zero copy: every view points into a file mapping; nothing was converted.
            #expect(allTensors(w).allSatisfy { w.isMapped($0) })
            #expect(w.convertedByteCount == 0)
            #expect(w.mappedByteCount > 0)
            // Tied head: the same memory as wte.
            #expect(w.lmHead.data == w.wte.data && w.lmHead.shape == [11, 8])
            #expect(w.heads.isEmpty)
        }
    }

    @Test func bothKeyLayoutsLoadIdenticalWeights() throws {
        let bare = try withCheckpoint { try allValues(CheckpointLoader.load(directory: $0).weights) }
        let prefixed = try withCheckpoint(tiny, options { $0.layout = .prefixed }) {
            try allValues(CheckpointLoader.load(directory: $0).weights)
        }
        #expect(bare.count == 4 + 1 + 24)
        #expect(bare == prefixed)
    }

    @Test func maskBuffersAreSkipped() throws {
        for layout in [TinyCheckpoint.Layout.bare, .prefixed] {
            let values = try withCheckpoint(tiny, options { $0.includeMaskBuffers = true; $0.layout = layout }) { dir in
                let f = try SafeTensorsFile.open(path: dir + "/model.safetensors")
                #expect(f.names.contains { $0.hasSuffix("h.1.attn.masked_bias") })
                #expect(f.names.contains { $0.hasSuffix("h.0.attn.bias") })
                let w = try CheckpointLoader.load(directory: dir).weights
                #expect(w.heads.isEmpty)
                return allValues(w)
            }
            let plain = try withCheckpoint { try allValues(CheckpointLoader.load(directory: $0).weights) }
            #expect(values == plain)
        }
    }

    /// Matrices stay 16-bit views of the mapping (no F32 copy); vectors are widened exactly into F32.
    @Test(arguments: ["F16", "BF16"])
    func reducedPrecisionConvertsExactly(dtype: String) throws {
        try withCheckpoint(tiny, options { $0.dtype = dtype }) { dir in
            let w = try CheckpointLoader.load(directory: dir).weights
            #expect(w.storedDType == dtype)
            var vectorCount = 0
            for t in allTensors(w) {
                #expect(t.floats() == TinyCheckpoint.expectedValues(for: t.name, count: t.count, dtype: dtype), "\(t.name)")
                let matrix = t.shape.count == 2 && t.name != "wpe.weight"
                #expect(w.isMapped(t) == matrix, "\(t.name)")
                #expect((t.half != nil) == matrix, "\(t.name)")
                if !matrix { vectorCount += t.count }
            }
            #expect(w.convertedByteCount == vectorCount * 4)
            #expect(w.lmHead.sharesStorage(with: w.wte))
        }
    }

    @Test func f16MatchesFloat16Conversion() throws {
        try withCheckpoint(tiny, options { $0.dtype = "F16" }) { dir in
            let w = try CheckpointLoader.load(directory: dir).weights
            let raw = TinyCheckpoint.values(for: "h.1.mlp.c_fc.weight", count: 8 * 32)
            #expect(w.layers[1].mlpFCWeight.floats() == raw.map { Float(Float16($0)) })
        }
    }

    @Test func shardedEqualsUnsharded() throws {
        let single = try withCheckpoint { try allValues(CheckpointLoader.load(directory: $0).weights) }
        for layout in [TinyCheckpoint.Layout.bare, .prefixed] {
            let sharded = try withCheckpoint(tiny, options { $0.shards = 3; $0.layout = layout }) { dir in
                #expect(!FileManager.default.fileExists(atPath: dir + "/model.safetensors"))
                #expect(FileManager.default.fileExists(atPath: dir + "/model-00003-of-00003.safetensors"))
                let w = try CheckpointLoader.load(directory: dir).weights
                #expect(allTensors(w).allSatisfy { w.isMapped($0) })
                return allValues(w)
            }
            #expect(sharded == single)
        }
    }

    @Test func misalignedF32IsCopiedCorrectly() throws {
        try withCheckpoint(tiny, options { $0.extraHeaderSpaces = 2 }) { dir in
            let w = try CheckpointLoader.load(directory: dir).weights
            #expect(w.convertedByteCount > 0)
            #expect(!w.isMapped(w.wte))
            #expect(Array(w.wte.buffer) == TinyCheckpoint.values(for: "wte.weight", count: 88))
        }
    }

    @Test func untiedLMHeadIsUsed() throws {
        var c = tiny; c.tieWordEmbeddings = false
        try withCheckpoint(c, options { $0.includeLMHead = true }) { dir in
            let (config, w) = try CheckpointLoader.load(directory: dir)
            #expect(!config.tieWordEmbeddings)
            #expect(w.lmHead.data != w.wte.data)
            #expect(w.lmHead.shape == [11, 8])
            #expect(Array(w.lmHead.buffer) == TinyCheckpoint.values(for: "lm_head.weight", count: 88))
        }
    }

    @Test func tiedConfigIgnoresStoredLMHead() throws {
        try withCheckpoint(tiny, options { $0.includeLMHead = true }) { dir in
            let w = try CheckpointLoader.load(directory: dir).weights
            #expect(w.lmHead.data == w.wte.data)
        }
    }

    @Test func headTensorsAreCollected() throws {
        var c = tiny
        c.id2label = [0: "NEG", 1: "NEU", 2: "POS"]; c.label2id = ["NEG": 0, "NEU": 1, "POS": 2]
        c.architectures = ["GPT2ForSequenceClassification"]
        let heads: [String: [Int]] = ["score.weight": [3, 8], "qa_outputs.weight": [2, 8], "qa_outputs.bias": [2],
                                      "classifier.weight": [3, 8], "classifier.bias": [3],
                                      "multiple_choice_head.summary.weight": [1, 8], "multiple_choice_head.summary.bias": [1]]
        try withCheckpoint(c, options { $0.layout = .prefixed; $0.heads = heads }) { dir in
            let (config, w) = try CheckpointLoader.load(directory: dir)
            #expect(config.numLabels == 3)
            #expect(Set(w.heads.keys) == Set(heads.keys))
            for (k, shape) in heads {
                #expect(w.heads[k]?.shape == shape)
                #expect(w.heads[k].map { Array($0.buffer) } == TinyCheckpoint.values(for: k, count: shape.reduce(1, *)))
            }
        }
    }

    @Test func gpt2ModelLoads() throws {
        try withCheckpoint { dir in
            let m = try GPT2Model.load(directory: dir + "/", options: LoadOptions(preload: false))
            #expect(m.config == tiny && m.directory == dir + "/")
            #expect(m.weights.layers.count == 2)
        }
    }

    @Test func lockInMemoryEitherLocksOrSaysWhy() throws {
        try withCheckpoint { dir in
            do {
                _ = try CheckpointLoader.load(directory: dir, options: LoadOptions(preload: true, lockInMemory: true))
            } catch let CheckpointError.lockFailed(path, reason) {
                #expect(path == dir + "/model.safetensors" && !reason.isEmpty)
            }
        }
    }
}

@Suite struct CheckpointLoaderErrorTests {
    @Test func missingTensor() throws {
        try withCheckpoint(tiny, options { $0.omit = ["h.1.mlp.c_fc.bias"] }) { dir in
            #expect(throws: CheckpointError.missingTensor(tensor: "h.1.mlp.c_fc.bias", directory: dir)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func wrongShapeNamesFileTensorExpectedAndFound() throws {
        try withCheckpoint(tiny, options { $0.layout = .prefixed; $0.shapeOverrides = ["h.1.attn.c_attn.weight": [24, 8]] }) { dir in
            let expected = CheckpointError.wrongShape(file: dir + "/model.safetensors", tensor: "transformer.h.1.attn.c_attn.weight",
                                                      expected: [8, 24], found: [24, 8])
            #expect(throws: expected) { try CheckpointLoader.load(directory: dir) }
            #expect(expected.description.contains("transformer.h.1.attn.c_attn.weight"))
            #expect(expected.description.contains("[24, 8], expected [8, 24]"))
        }
    }

    @Test func configNLayerTooBig() throws {
        var c = tiny; c.nLayer = 3
        try withCheckpoint(tiny, configText: TinyCheckpoint.configJSON(c)) { dir in
            #expect(throws: CheckpointError.missingTensor(tensor: "h.2.ln_1.weight", directory: dir)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func configNLayerTooSmall() throws {
        var c = tiny; c.nLayer = 1
        try withCheckpoint(tiny, configText: TinyCheckpoint.configJSON(c)) { dir in
            #expect(throws: CheckpointError.configMismatch(field: "n_layer", config: 1, tensors: 2)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func extraLayerBeyondConfig() throws {
        try withCheckpoint(tiny, options { $0.extraBody = ["h.5.ln_1.weight": [8]] }) { dir in
            #expect(throws: CheckpointError.configMismatch(field: "n_layer", config: 2, tensors: 6)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func configNEmbdMismatch() throws {
        var c = tiny; c.nEmbd = 16; c.nInner = 64
        try withCheckpoint(tiny, configText: TinyCheckpoint.configJSON(c)) { dir in
            #expect(throws: CheckpointError.configMismatch(field: "n_embd", config: 16, tensors: 8)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func configVocabPositionsInnerMismatch() throws {
        var c = tiny; c.vocabSize = 12
        try withCheckpoint(tiny, configText: TinyCheckpoint.configJSON(c)) { dir in
            #expect(throws: CheckpointError.configMismatch(field: "vocab_size", config: 12, tensors: 11)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
        c = tiny; c.nPositions = 16
        try withCheckpoint(tiny, configText: TinyCheckpoint.configJSON(c)) { dir in
            #expect(throws: CheckpointError.configMismatch(field: "n_positions", config: 16, tensors: 8)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
        c = tiny; c.nInner = 48
        try withCheckpoint(tiny, configText: TinyCheckpoint.configJSON(c)) { dir in
            #expect(throws: CheckpointError.configMismatch(field: "n_inner", config: 48, tensors: 32)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func untiedWithoutLMHead() throws {
        var c = tiny; c.tieWordEmbeddings = false
        try withCheckpoint(c) { dir in
            #expect(throws: CheckpointError.missingTensor(tensor: "lm_head.weight", directory: dir)) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func headShapeDisagreesWithLabels() throws {
        try withCheckpoint(tiny, options { $0.heads = ["score.weight": [3, 8]] }) { dir in
            #expect(throws: CheckpointError.wrongShape(file: dir + "/model.safetensors", tensor: "score.weight",
                                                       expected: [2, 8], found: [3, 8])) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func integerWeightsAreUnsupported() throws {
        try withCheckpoint(tiny, options { $0.dtype = "I32" }) { dir in
            #expect(throws: CheckpointError.unsupportedDType(file: dir + "/model.safetensors", tensor: "wte.weight", dtype: "I32")) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func sameTensorWithAndWithoutPrefix() throws {
        // Heads are written without the prefix, so "wte.weight" as a head collides with "transformer.wte.weight".
        try withCheckpoint(tiny, options { $0.layout = .prefixed; $0.heads = ["wte.weight": [11, 8]] }) { dir in
            let f = dir + "/model.safetensors"
            #expect(throws: CheckpointError.duplicateTensor(tensor: "wte.weight", first: "\(f) as 'transformer.wte.weight'",
                                                            second: "\(f) as 'wte.weight'")) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func pytorchBinOnly() throws {
        // pytorch_model.bin is read now (PyTorchCheckpointTests); two bytes are neither torch.save layout.
        let dir = makeTempDirectory("ckpt"); defer { removeDirectory(dir) }
        try writeFile(TinyCheckpoint.configJSON(tiny), to: dir + "/config.json")
        try writeFile([0x80, 0x02], to: dir + "/pytorch_model.bin")
        #expect(throws: CheckpointError.badArchive(file: dir + "/pytorch_model.bin",
                                                   reason: "wrong magic: neither a zip archive (torch ≥ 1.6) nor the legacy torch.save layout")) {
            try CheckpointLoader.load(directory: dir)
        }
        // Other weight files are named, with the files that are read (tf_model.h5 is read now: TFFlaxCheckpointTests).
        try FileManager.default.removeItem(atPath: dir + "/pytorch_model.bin")
        try writeFile([0x08, 0x01], to: dir + "/model.onnx")
        let expected = CheckpointError.noWeights(directory: dir, found: ["model.onnx"])
        #expect(throws: expected) { try CheckpointLoader.load(directory: dir) }
        #expect(expected.description.contains("pytorch_model.bin") && expected.description.contains("model.onnx"))
        #expect(expected.description.contains("tf_model.h5") && expected.description.contains("flax_model.msgpack"))
    }

    @Test func noWeightsAtAll() throws {
        let dir = makeTempDirectory("ckpt"); defer { removeDirectory(dir) }
        try writeFile(TinyCheckpoint.configJSON(tiny), to: dir + "/config.json")
        #expect(throws: CheckpointError.noWeights(directory: dir, found: [])) { try CheckpointLoader.load(directory: dir) }
    }

    @Test func missingConfigAndDirectory() throws {
        let dir = makeTempDirectory("ckpt"); defer { removeDirectory(dir) }
        #expect(throws: CheckpointError.fileNotFound(path: dir + "/config.json")) { try CheckpointLoader.load(directory: dir) }
        #expect(throws: CheckpointError.fileNotFound(path: dir + "/nope")) { try CheckpointLoader.load(directory: dir + "/nope") }
    }

    @Test func missingShard() throws {
        try withCheckpoint(tiny, options { $0.shards = 2 }) { dir in
            try FileManager.default.removeItem(atPath: dir + "/model-00002-of-00002.safetensors")
            #expect(throws: CheckpointError.missingShard(index: dir + "/model.safetensors.index.json",
                                                         shard: "model-00002-of-00002.safetensors")) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func indexNamesTensorAbsentFromShard() throws {
        try withCheckpoint(tiny, options { $0.shards = 2 }) { dir in
            let index = dir + "/model.safetensors.index.json"
            let text = try String(contentsOfFile: index, encoding: .utf8)
                .replacingOccurrences(of: "\"weight_map\": {", with: "\"weight_map\": {\n    \"ghost.weight\": \"model-00001-of-00002.safetensors\",")
            try writeFile(text, to: index)
            #expect(throws: CheckpointError.badIndex(file: index,
                reason: "weight_map puts 'ghost.weight' in model-00001-of-00002.safetensors, which has no such tensor")) {
                try CheckpointLoader.load(directory: dir)
            }
        }
    }

    @Test func malformedIndex() throws {
        try withCheckpoint(tiny, options { $0.shards = 2 }) { dir in
            let index = dir + "/model.safetensors.index.json"
            try writeFile("{\"weight_map\": [1, 2]}", to: index)
            #expect(throws: CheckpointError.badIndex(file: index, reason: "no 'weight_map' object")) {
                try CheckpointLoader.load(directory: dir)
            }
            try writeFile("{\"weight_map\": {\"wte.weight\": \"../model-00001-of-00002.safetensors\"}}", to: index)
            #expect(throws: CheckpointError.badIndex(file: index,
                reason: "shard name '../model-00001-of-00002.safetensors' for 'wte.weight' is not a file inside the directory")) {
                try CheckpointLoader.load(directory: dir)
            }
            try writeFile("{\"weight_map\": {", to: index)
            #expect { try CheckpointLoader.load(directory: dir) } throws: { e in
                guard case let .badIndex(file, reason)? = e as? CheckpointError else { return false }
                return file == index && reason.contains("invalid JSON")
            }
        }
    }

    @Test func corruptWeightFileSurfacesSafeTensorsError() throws {
        try withCheckpoint { dir in
            let path = dir + "/model.safetensors"
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            bytes.removeLast(4)
            try writeFile(bytes, to: path)
            #expect { try CheckpointLoader.load(directory: dir) } throws: { e in
                guard case let .offsetsOutOfRange(file, _, _, _, _)? = e as? CheckpointError else { return false }
                return file == path
            }
        }
    }
}

@Suite struct CheckpointKeyTests {
    @Test func classifiesKeysInBothLayouts() {
        typealias R = CheckpointLoader.KeyRole
        #expect(CheckpointLoader.classify("h.0.attn.bias") == R.maskBuffer)
        #expect(CheckpointLoader.classify("transformer.h.11.attn.masked_bias") == R.maskBuffer)
        #expect(CheckpointLoader.classify("h.0.attn.c_attn.bias") == R.body("h.0.attn.c_attn.bias"))
        #expect(CheckpointLoader.classify("transformer.h.3.mlp.c_fc.weight") == R.body("h.3.mlp.c_fc.weight"))
        #expect(CheckpointLoader.classify("transformer.wte.weight") == R.body("wte.weight"))
        #expect(CheckpointLoader.classify("ln_f.bias") == R.body("ln_f.bias"))
        #expect(CheckpointLoader.classify("lm_head.weight") == R.lmHead)
        #expect(CheckpointLoader.classify("score.weight") == R.head("score.weight"))
        #expect(CheckpointLoader.classify("multiple_choice_head.summary.bias") == R.head("multiple_choice_head.summary.bias"))
        #expect(CheckpointLoader.classify("h.0.attn.rotary.inv_freq") == R.unused("h.0.attn.rotary.inv_freq"))
        #expect(CheckpointLoader.classify("h.x.ln_1.weight") == R.unused("h.x.ln_1.weight"))
    }

    @Test func maskBuffersOfAnyDTypeDoNotBreakLoading() throws {
        // Newer transformers keep attn.bias as BOOL; such a buffer must be skipped, not type-checked.
        let dir = makeTempDirectory("ckpt"); defer { removeDirectory(dir) }
        try TinyCheckpoint.write(config: tiny, to: dir)
        let f = try SafeTensorsFile.open(path: dir + "/model.safetensors")
        var w = SafeTensorsWriter()
        for name in f.names {
            let info = try #require(f.info(name))
            w.add(name, dtype: info.dtype.rawValue, shape: info.shape, bytes: Array(try f.rawBytes(name)))
        }
        w.add("h.0.attn.bias", dtype: "BOOL", shape: [1, 1, 8, 8], bytes: [UInt8](repeating: 1, count: 64))
        w.add("h.1.attn.masked_bias", dtype: "I64", shape: [], bytes: [UInt8](repeating: 0, count: 8))
        try w.write(to: dir + "/model.safetensors")
        let weights = try CheckpointLoader.load(directory: dir).weights
        #expect(Array(weights.layers[1].ln1Weight.buffer) == TinyCheckpoint.values(for: "h.1.ln_1.weight", count: 8))
    }
}
