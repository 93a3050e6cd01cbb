// pytorch_model.bin directories (Tests/Fixtures/pytorch, scripts/make_pickle_fixtures.py): each
// serves exactly the logits of its safetensors twin (the same tensors, the same dtype) and the
// transformers goldens of the twin within 1e-4; contiguous tensors are views of the file, strided
// views are copied once; safetensors wins when both are present; malicious pickles are refused
// naming the global, and their payload never runs.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// Logits of `ids` (all positions) for the model in `directory`.
private func logits(_ model: GPT2Model, _ ids: [Int32]) throws -> [Float] {
    let runner = GPT2Runner(config: model.config, weights: model.weights)
    let cache = KVCache(pool: KVBlockPool(config: model.config, blockTokens: 8))
    return try runner.forward([ForwardRequest(cache: cache, tokens: ids, logits: .all, hidden: .none)])[0].logits
}

/// The twin's golden prompts when it has golden.safetensors, else a fixed prompt inside the vocabulary.
private func prompts(_ fixture: PyTorchFixtures.Fixture, vocab: Int) throws -> [(ids: [Int32], golden: [Float]?)] {
    let goldenPath = fixture.twinDirectory + "/golden.safetensors"
    guard FileManager.default.fileExists(atPath: goldenPath) else {
        return [((0..<12).map { Int32(($0 * 7919 + 13) % vocab) }, nil)]
    }
    let golden = try SafeTensorsFile.open(path: goldenPath)
    return try (0..<3).map { i in
        (try golden.int64s("input_ids.\(i)").map { Int32($0) }, try golden.floats("logits.\(i)"))
    }
}

@Suite struct PyTorchCheckpointTests {
    @Test func manifestCoversEveryLayoutAndDType() {
        let names = Set(PyTorchFixtures.all.map(\.name))
        #expect(names.isSuperset(of: ["hub-zip", "untied-legacy-views", "f16-zip", "bf16-legacy", "sharded-zip", "seqcls-zip"]))
        #expect(Set(PyTorchFixtures.loadable.map(\.layout)) == ["zip", "legacy"])
        #expect(PyTorchFixtures.malicious.count == 3)
    }

    @Test("same logits as the safetensors twin (exactly) and as transformers (1e-4)", arguments: PyTorchFixtures.loadable)
    func equalsTwin(_ fixture: PyTorchFixtures.Fixture) throws {
        let pt = try GPT2Model.load(directory: fixture.directory)
        let st = try GPT2Model.load(directory: fixture.twinDirectory)
        #expect(pt.weights.format == .pytorch && st.weights.format == .safetensors)
        #expect(pt.weights.storedDType == st.weights.storedDType)
        #expect(pt.weights.weightType == st.weights.weightType)
        #expect(Set(pt.weights.heads.keys) == Set(st.weights.heads.keys))
        for (key, head) in st.weights.heads { #expect(pt.weights.heads[key]?.floats() == head.floats(), "\(fixture) \(key)") }
        for (ids, golden) in try prompts(fixture, vocab: st.config.vocabSize) {
            let a = try logits(pt, ids), b = try logits(st, ids)
            #expect(a == b, "\(fixture): logits differ from the safetensors twin")
            if let golden {
                let worst = zip(a, golden).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                #expect(worst <= 1e-4, "\(fixture): max |Δlogit| vs transformers = \(worst)")
            }
        }
    }

    @Test func contiguousTensorsAreViewsOfTheFileAndTiedOnesShareBytes() throws {
        let dir = PyTorchFixtures.directory("hub-zip")
        let files = try PyTorchCheckpoint.open(path: dir + "/pytorch_model.bin")
        #expect(files.count == 1)  // nothing strided: no copy
        let f = files[0]
        #expect(!f.mapping.isAnonymous)
        let wte = try #require(f.info("wte.weight")), head = try #require(f.info("lm_head.weight"))
        #expect(wte.fileRange == head.fileRange)
        #expect(wte.fileRange.lowerBound % 64 == 0)  // torch aligns zip storages
        #expect(f.info("h.0.attn.bias") != nil)       // old mask buffers are read (and skipped by the loader)
        let m = try GPT2Model.load(directory: dir)
        #expect(m.weights.isMapped(m.weights.wte) && m.weights.isMapped(m.weights.layers[1].mlpFCWeight))
        #expect(m.weights.mappedFiles.allSatisfy { !$0.isAnonymous })
        #expect(m.weights.convertedByteCount == 0)
        let f16 = try GPT2Model.load(directory: PyTorchFixtures.directory("f16-zip"))
        #expect(f16.weights.wte.half != nil && f16.weights.isMapped(f16.weights.layers[0].attnQKVWeight))
    }

    @Test func stridedViewsAreCopiedOnceAndOffsetViewsAreNot() throws {
        let path = PyTorchFixtures.directory("untied-legacy-views") + "/pytorch_model.bin"
        let files = try PyTorchCheckpoint.open(path: path)
        #expect(files.count == 2)
        let (file, copies) = (files[0], files[1])
        #expect(copies.mapping.isAnonymous && !file.mapping.isAnonymous)
        // Every Conv1D weight is a transposed view → copied; everything else is in the file.
        #expect(Set(copies.names) == Set((0..<2).flatMap { l in
            ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"].map { "transformer.h.\(l).\($0)" }
        }))
        #expect(copies.mapping.size == copies.names.reduce(0) { $0 + copies.info($1)!.byteCount })
        // The biases are slices of one storage at increasing offsets.
        let b0 = try #require(file.info("transformer.h.0.attn.c_attn.bias")), b1 = try #require(file.info("transformer.h.0.attn.c_proj.bias"))
        #expect(b0.fileRange.upperBound <= b1.fileRange.lowerBound || b1.fileRange.upperBound <= b0.fileRange.lowerBound)
        let twin = try SafeTensorsFile.open(path: Fixtures.model("tiny-untied-relu") + "/model.safetensors")
        for name in twin.names {
            let source = file.info(name) != nil ? file : copies
            #expect(try source.floats(name) == twin.floats(name), "\(name)")
        }
    }

    @Test func shardIndexNamingAMissingTensorIsRefused() throws {
        let dir = makeTempDirectory("pt-shards"); defer { removeDirectory(dir) }
        let src = PyTorchFixtures.directory("sharded-zip")
        for name in try FileManager.default.contentsOfDirectory(atPath: src) {
            try FileManager.default.copyItem(atPath: src + "/" + name, toPath: dir + "/" + name)
        }
        let index = dir + "/pytorch_model.bin.index.json"
        var text = try String(contentsOfFile: index, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"weight_map\": {", with: "\"weight_map\": {\n    \"h.9.bogus\": \"pytorch_model-00001-of-00002.bin\",")
        try text.write(toFile: index, atomically: true, encoding: .utf8)
        #expect(throws: CheckpointError.badIndex(file: index, reason: "weight_map puts 'h.9.bogus' in pytorch_model-00001-of-00002.bin, which has no such tensor")) {
            try CheckpointLoader.load(directory: dir)
        }
        // A shard the index names but the directory lacks.
        try FileManager.default.removeItem(atPath: dir + "/pytorch_model-00002-of-00002.bin")
        #expect(throws: CheckpointError.missingShard(index: index, shard: "pytorch_model-00002-of-00002.bin")) {
            try CheckpointLoader.load(directory: dir)
        }
    }

    @Test func safetensorsWinsOverPytorchModelBin() throws {
        let dir = makeTempDirectory("pt-both"); defer { removeDirectory(dir) }
        let hub = Fixtures.model("tiny-hub")
        try FileManager.default.copyItem(atPath: hub + "/config.json", toPath: dir + "/config.json")
        try FileManager.default.copyItem(atPath: hub + "/model.safetensors", toPath: dir + "/model.safetensors")
        // Even a malicious .bin is never opened when safetensors is present.
        try FileManager.default.copyItem(atPath: PyTorchFixtures.directory("malicious-system") + "/pytorch_model.bin",
                                         toPath: dir + "/pytorch_model.bin")
        let m = try GPT2Model.load(directory: dir)
        #expect(m.weights.format == .safetensors)
    }

    @Test("a malicious pickle is refused naming its global; the payload never runs", arguments: PyTorchFixtures.malicious)
    func maliciousPickleIsRefused(_ fixture: PyTorchFixtures.Fixture) throws {
        let marker = PyTorchFixtures.payloadMarker
        unlink(marker)
        let bin = fixture.directory + "/pytorch_model.bin"
        do {
            _ = try GPT2Model.load(directory: fixture.directory)
            Issue.record("\(fixture): loaded")
        } catch let e as CheckpointError {
            guard case let .unsafePickle(file, _, what) = e else { Issue.record("\(fixture): \(e)"); return }
            #expect(file == bin)
            #expect(what.contains("'\(fixture.refusedGlobal!)'"), "\(what)")
            #expect(e.description.contains(fixture.refusedGlobal!) && e.description.contains("refused"))
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "the payload ran")
    }
}
