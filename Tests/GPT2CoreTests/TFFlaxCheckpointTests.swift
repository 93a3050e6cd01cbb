// tf_model.h5 and flax_model.msgpack directories (Tests/Fixtures/tfflax, written by transformers
// 4.57.1's TF / Flax classes: scripts/make_tf_flax_fixtures.py): each serves exactly the logits of
// its safetensors twin (the same values, the same dtype) and the twin's transformers goldens within
// 1e-4; Flax arrays are views of the file but for the transposed kernels; a directory with several
// formats is read in transformers' order.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// Logits of `ids` (all positions).
private func logits(_ model: GPT2Model, _ ids: [Int32]) throws -> [Float] {
    let runner = GPT2Runner(config: model.config, weights: model.weights)
    let cache = KVCache(pool: KVBlockPool(config: model.config, blockTokens: 8))
    return try runner.forward([ForwardRequest(cache: cache, tokens: ids, logits: .all, hidden: .none)])[0].logits
}

/// The twin's golden prompts and logits, or a fixed prompt when it has none (the head twins).
private func prompts(_ twin: String, vocab: Int) throws -> [(ids: [Int32], golden: [Float]?)] {
    let path = twin + "/golden.safetensors"
    guard FileManager.default.fileExists(atPath: path) else { return [((0..<12).map { Int32(($0 * 7919 + 13) % vocab) }, nil)] }
    let golden = try SafeTensorsFile.open(path: path)
    return try (0..<3).map { (try golden.int64s("input_ids.\($0)").map { Int32($0) }, try golden.floats("logits.\($0)")) }
}

/// A temporary directory holding the given files of fixture directories (name in the directory → source path).
private func directory(_ tag: String, _ files: [String: String]) throws -> String {
    let dir = makeTempDirectory(tag)
    for (name, source) in files { try FileManager.default.copyItem(atPath: source, toPath: dir + "/" + name) }
    return dir
}

@Suite struct TFFlaxCheckpointTests {
    @Test func manifestCoversEveryClassAndDType() {
        let all = TFFlaxFixtures.all
        #expect(Set(all.map(\.modelClass)) == ["TFGPT2LMHeadModel", "TFGPT2Model", "TFGPT2ForSequenceClassification", "TFGPT2DoubleHeadsModel",
                                                "FlaxGPT2LMHeadModel", "FlaxGPT2Model"])
        #expect(Set(all.filter { $0.format == "flax" }.map(\.dtype)) == ["F32", "F16", "BF16"])
        #expect(all.contains { $0.files.contains("flax_model.msgpack.index.json") })
    }

    @Test("same logits as the safetensors twin (exactly) and as transformers (1e-4)", arguments: TFFlaxFixtures.all)
    func equalsTwin(_ fixture: TFFlaxFixtures.Fixture) throws {
        let m = try GPT2Model.load(directory: fixture.directory)
        let st = try GPT2Model.load(directory: fixture.twinDirectory)
        #expect(m.weights.format.rawValue == fixture.format && st.weights.format == .safetensors)
        #expect(m.weights.storedDType == st.weights.storedDType && m.weights.storedDType == fixture.dtype)
        #expect(Set(m.weights.heads.keys) == Set(st.weights.heads.keys))
        for (key, head) in st.weights.heads { #expect(m.weights.heads[key]?.floats() == head.floats(), "\(fixture) \(key)") }
        for (ids, golden) in try prompts(fixture.twinDirectory, vocab: st.config.vocabSize) {
            let a = try logits(m, ids), b = try logits(st, ids)
            #expect(a == b, "\(fixture): logits differ from the safetensors twin")
            if let golden {
                let worst = zip(a, golden).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                #expect(worst <= 1e-4, "\(fixture): max |Δlogit| vs transformers = \(worst)")
            }
        }
    }

    @Test func flaxArraysAreViewsOfTheFileButTransposedKernels() throws {
        let path = TFFlaxFixtures.directory("flax-lm") + "/flax_model.msgpack"
        let files = try FlaxCheckpoint.open(path: path)
        #expect(files.count == 2)
        let (file, kernels) = (files[0], files[1])
        #expect(!file.mapping.isAnonymous && kernels.mapping.isAnonymous)
        #expect(Set(kernels.names) == Set((0..<2).flatMap { l in
            ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"].map { "transformer.h.\(l).\($0)" }
        }))
        // Stored (out, in) in the file, (in, out) like Conv1D in the table; values equal the twin's.
        #expect(kernels.info("transformer.h.0.attn.c_attn.weight")?.shape == [32, 96])
        let twin = try SafeTensorsFile.open(path: Fixtures.model("tiny-hub") + "/model.safetensors")
        for name in twin.names where !name.hasSuffix("attn.bias") && !name.hasSuffix("masked_bias") {
            let source = file.info("transformer." + name) != nil ? file : kernels
            #expect(try source.floats("transformer." + name) == twin.floats(name), "\(name)")
        }
        // 16-bit leaves are served as views of the file's bytes.
        let f16 = try GPT2Model.load(directory: TFFlaxFixtures.directory("flax-f16"))
        #expect(f16.weights.wte.half != nil && f16.weights.isMapped(f16.weights.wte))
        #expect(f16.weights.mappedFiles.contains { !$0.isAnonymous })
    }

    @Test func tensorflowDatasetsAreReadIntoOneAlignedCopy() throws {
        let path = TFFlaxFixtures.directory("tf-lm") + "/tf_model.h5"
        let files = try TFCheckpoint.open(path: path)
        #expect(files.count == 1 && files[0].mapping.isAnonymous && files[0].path == path)
        let t = files[0]
        #expect(t.names.allSatisfy { t.info($0)!.fileRange.lowerBound % 64 == 0 })
        // TFConv1D biases are stored (1, N): the table has PyTorch's (N).
        #expect(t.info("transformer.h.1.mlp.c_fc.bias")?.shape == [128])
        let m = try GPT2Model.load(directory: TFFlaxFixtures.directory("tf-lm"))
        #expect(m.weights.isMapped(m.weights.layers[0].attnQKVWeight) && m.weights.convertedByteCount == 0)
    }

    @Test func flaxShardIndexNamingAMissingParameterIsRefused() throws {
        let src = TFFlaxFixtures.directory("flax-sharded")
        let names = try FileManager.default.contentsOfDirectory(atPath: src)
        let dir = try directory("flax-shards", Dictionary(uniqueKeysWithValues: names.map { ($0, src + "/" + $0) }))
        defer { removeDirectory(dir) }
        let index = dir + "/flax_model.msgpack.index.json"
        let shard = try #require(names.filter { $0.hasSuffix(".msgpack") }.sorted().first)
        var text = try String(contentsOfFile: index, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"weight_map\": {", with: "\"weight_map\": {\n    \"h/9/bogus/kernel\": \"\(shard)\",")
        try text.write(toFile: index, atomically: true, encoding: .utf8)
        #expect(throws: CheckpointError.badIndex(file: index, reason: "weight_map puts 'h/9/bogus/kernel' in \(shard), which has no such tensor")) {
            try CheckpointLoader.load(directory: dir)
        }
    }

    @Test func readOrderIsSafetensorsThenPytorchThenTensorflowThenFlax() throws {
        let hub = Fixtures.model("tiny-hub")
        let h5 = TFFlaxFixtures.directory("tf-lm") + "/tf_model.h5", msgpack = TFFlaxFixtures.directory("flax-lm") + "/flax_model.msgpack"
        let bin = PyTorchFixtures.directory("hub-zip") + "/pytorch_model.bin"
        let cases: [([String: String], CheckpointFormat)] = [
            (["model.safetensors": hub + "/model.safetensors", "tf_model.h5": h5, "flax_model.msgpack": msgpack], .safetensors),
            (["pytorch_model.bin": bin, "tf_model.h5": h5, "flax_model.msgpack": msgpack], .pytorch),
            (["tf_model.h5": h5, "flax_model.msgpack": msgpack], .tensorflow),
            (["flax_model.msgpack": msgpack], .flax),
        ]
        for (files, format) in cases {
            let dir = try directory("order", files.merging(["config.json": hub + "/config.json"]) { a, _ in a })
            defer { removeDirectory(dir) }
            #expect(try GPT2Model.load(directory: dir).weights.format == format, "\(files.keys.sorted())")
        }
    }

    @Test func hdf5LoadsFromSeveralThreadsAtOnce() async throws {
        let dir = TFFlaxFixtures.directory("tf-lm")
        let want = try logits(try GPT2Model.load(directory: dir), [1, 2, 3])
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<4 { group.addTask { try logits(try GPT2Model.load(directory: dir), [1, 2, 3]) } }
            for try await got in group { #expect(got == want) }
        }
    }
}
