// Sharded checkpoints of every format under the same rules: a directory of shards + its index
// (model.safetensors.index.json, pytorch_model.bin.index.json, tf_model.h5.index.json,
// flax_model.msgpack.index.json, each as transformers writes it: Tests/Fixtures) loads from the
// shards the weight_map names; a shard named but absent, a name outside the directory, a tensor the
// index puts in a shard that lacks it, a tensor in two shards and a tensor in no shard are each a
// typed CheckpointError naming the file and tensor. Shards the index does not name are not read,
// and a kind's single file is read before its index.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// One sharded fixture: its directory, index file name and format.
struct ShardedFixture: Sendable, CustomStringConvertible {
    let directory: String
    let index: String
    let format: CheckpointFormat
    var description: String { format.rawValue }

    static let all = [
        ShardedFixture(directory: Fixtures.model("tiny-sharded"), index: "model.safetensors.index.json", format: .safetensors),
        ShardedFixture(directory: PyTorchFixtures.directory("sharded-zip"), index: "pytorch_model.bin.index.json", format: .pytorch),
        ShardedFixture(directory: TFFlaxFixtures.directory("tf-sharded"), index: "tf_model.h5.index.json", format: .tensorflow),
        ShardedFixture(directory: TFFlaxFixtures.directory("flax-sharded"), index: "flax_model.msgpack.index.json", format: .flax),
    ]

    /// A bogus weight_map key in this format's naming (a parameter of a layer the model lacks).
    var bogusKey: String {
        switch format {
        case .flax: return "h/9/bogus/kernel"
        case .tensorflow: return "tfgpt2lm_head_model/transformer/h_._9/bogus/weight:0"
        default: return "transformer.h.9.bogus.weight"
        }
    }
}

/// A temporary copy of `fixture`'s directory (its files, symlinks resolved).
private func copy(_ fixture: ShardedFixture) throws -> String {
    let dir = makeTempDirectory("shards-\(fixture.format.rawValue)")
    for name in try FileManager.default.contentsOfDirectory(atPath: fixture.directory) {
        try FileManager.default.copyItem(atPath: fixture.directory + "/" + name, toPath: dir + "/" + name)
    }
    return dir
}

/// The index's weight_map.
private func weightMap(_ indexPath: String) throws -> [String: String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: indexPath))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    return try #require(json["weight_map"] as? [String: String])
}

/// Rewrites the index with `map` as its weight_map.
private func write(_ map: [String: String], to indexPath: String) throws {
    let json: [String: Any] = ["metadata": ["total_size": 0], "weight_map": map]
    try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: URL(fileURLWithPath: indexPath))
}

/// The error loading `dir` throws (nil if it loads).
private func loadError(_ dir: String) -> CheckpointError? {
    do { _ = try CheckpointLoader.load(directory: dir); return nil } catch { return error as? CheckpointError }
}

@Suite struct ShardIndexTests {
    @Test("the sharded fixture loads from its shards", arguments: ShardedFixture.all)
    func loads(_ fixture: ShardedFixture) throws {
        let map = try weightMap(fixture.directory + "/" + fixture.index)
        #expect(Set(map.values).count >= 2, "\(fixture): fewer than 2 shards")
        #expect(try CheckpointLoader.load(directory: fixture.directory).weights.format == fixture.format)
    }

    @Test("a shard the index names but the directory lacks", arguments: ShardedFixture.all)
    func missingShard(_ fixture: ShardedFixture) throws {
        let dir = try copy(fixture); defer { removeDirectory(dir) }
        let shard = try #require(Set(try weightMap(dir + "/" + fixture.index).values).sorted().last)
        try FileManager.default.removeItem(atPath: dir + "/" + shard)
        #expect(loadError(dir) == .missingShard(index: dir + "/" + fixture.index, shard: shard))
    }

    @Test("shard names outside the directory", arguments: ShardedFixture.all)
    func pathEscape(_ fixture: ShardedFixture) throws {
        let dir = try copy(fixture); defer { removeDirectory(dir) }
        let index = dir + "/" + fixture.index
        let original = try weightMap(index)
        let (key, shard) = try #require(original.min { $0.key < $1.key })
        for escape in ["../" + shard, "/" + shard, "sub/../../" + shard] {
            var map = original
            map[key] = escape
            try write(map, to: index)
            #expect(loadError(dir) == .badIndex(file: index, reason: "shard name '\(escape)' for '\(key)' is not a file inside the directory"))
        }
    }

    @Test("a tensor the index puts in a shard that lacks it", arguments: ShardedFixture.all)
    func tensorNotInItsShard(_ fixture: ShardedFixture) throws {
        let dir = try copy(fixture); defer { removeDirectory(dir) }
        let index = dir + "/" + fixture.index
        var map = try weightMap(index)
        let shard = try #require(Set(map.values).sorted().first)
        map[fixture.bogusKey] = shard
        try write(map, to: index)
        #expect(loadError(dir) == .badIndex(file: index, reason: "weight_map puts '\(fixture.bogusKey)' in \(shard), which has no such tensor"))
    }

    @Test("a tensor in two shards names both files", arguments: ShardedFixture.all)
    func tensorInTwoShards(_ fixture: ShardedFixture) throws {
        let dir = try copy(fixture); defer { removeDirectory(dir) }
        let index = dir + "/" + fixture.index
        var map = try weightMap(index)
        // A shard holding several tensors, copied under another name that the index names for one of them.
        let counts = Dictionary(grouping: map.values, by: { $0 }).mapValues(\.count)
        let shard = try #require(counts.filter { $0.value >= 2 }.keys.sorted().first)
        let twin = "copy-" + shard
        try FileManager.default.copyItem(atPath: dir + "/" + shard, toPath: dir + "/" + twin)
        let key = try #require(map.filter { $0.value == shard }.keys.sorted().first)
        map[key] = twin
        try write(map, to: index)
        guard case let .duplicateTensor(tensor, first, second)? = loadError(dir) else {
            Issue.record("\(fixture): not duplicateTensor: \(String(describing: loadError(dir)))"); return
        }
        #expect(first.hasPrefix(dir + "/" + twin) && second.hasPrefix(dir + "/" + shard), "\(first) / \(second)")
        #expect(CheckpointLoader.classify(tensor) != .unused(tensor), "\(tensor)")
    }

    @Test("a tensor no shard named holds is missing", arguments: ShardedFixture.all)
    func tensorInNoShard(_ fixture: ShardedFixture) throws {
        let dir = try copy(fixture); defer { removeDirectory(dir) }
        let index = dir + "/" + fixture.index
        let map = try weightMap(index)
        // Drop the shard holding wte from the index (and the directory): nothing else holds it.
        let wteShard = try #require(map.first { key, _ in
            CheckpointLoader.normalise(CheckpointLoader.indexKey(key, format: fixture.format)) == "wte.weight"
        }?.value)
        try write(map.filter { $0.value != wteShard }, to: index)
        try FileManager.default.removeItem(atPath: dir + "/" + wteShard)
        #expect(loadError(dir) == .missingTensor(tensor: "wte.weight", directory: dir))
    }

    @Test func shardsTheIndexDoesNotNameAreNotRead() throws {
        // save_pretrained(max_shard_size: 100KB) wrote an empty first TF shard (wte alone is larger),
        // which the index does not name: garbage in its place changes nothing.
        let fixture = ShardedFixture.all.first { $0.format == .tensorflow }!
        let dir = try copy(fixture); defer { removeDirectory(dir) }
        let named = Set(try weightMap(dir + "/" + fixture.index).values)
        let unnamed = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".h5") && !named.contains($0) }
        #expect(unnamed == ["tf_model-00001-of-00004.h5"])
        for name in unnamed { try writeFile([UInt8](repeating: 0x5a, count: 64), to: dir + "/" + name) }
        let m = try GPT2Model.load(directory: dir), reference = try GPT2Model.load(directory: fixture.directory)
        #expect(m.weights.wte.floats() == reference.weights.wte.floats())
    }

    @Test func eachKindIsReadSingleFileThenIndexInTransformersOrder() throws {
        func files(_ fixture: ShardedFixture) throws -> [String: String] {
            let names = try FileManager.default.contentsOfDirectory(atPath: fixture.directory).filter { $0 != "config.json" }
            return Dictionary(uniqueKeysWithValues: names.map { ($0, fixture.directory + "/" + $0) })
        }
        let (st, pt, tf, flax) = (ShardedFixture.all[0], ShardedFixture.all[1], ShardedFixture.all[2], ShardedFixture.all[3])
        let bin = PyTorchFixtures.directory("hub-zip") + "/pytorch_model.bin"
        let h5 = TFFlaxFixtures.directory("tf-lm") + "/tf_model.h5"
        let msgpack = TFFlaxFixtures.directory("flax-lm") + "/flax_model.msgpack"
        let cases: [([String: String], CheckpointFormat)] = [
            (try files(st).merging(["pytorch_model.bin": bin]) { a, _ in a }, .safetensors),  // sharded safetensors > PyTorch
            (try files(pt).merging(["tf_model.h5": h5]) { a, _ in a }, .pytorch),              // sharded PyTorch > TF
            (try files(tf).merging(["flax_model.msgpack": msgpack]) { a, _ in a }, .tensorflow),  // sharded TF > Flax
            (["tf_model.h5": h5, tf.index: tf.directory + "/" + tf.index], .tensorflow),      // TF: single file > index
            (try files(flax), .flax),
        ]
        for (files, format) in cases {
            let dir = makeTempDirectory("shard-order"); defer { removeDirectory(dir) }
            for (name, source) in files.merging(["config.json": Fixtures.model("tiny-hub") + "/config.json"], uniquingKeysWith: { a, _ in a }) {
                try FileManager.default.copyItem(atPath: source, toPath: dir + "/" + name)
            }
            // The index without its shards in the single-file case: the index is never opened.
            #expect(try CheckpointLoader.load(directory: dir).weights.format == format, "\(files.keys.sorted())")
        }
    }

    @Test func tensorflowShardDatasetsAreNamedWithoutTheModelScope() throws {
        let dir = TFFlaxFixtures.directory("tf-sharded")
        // The index names each weight by its full Keras name: model scope (Keras' unique name of the
        // model object, e.g. "tfgpt2lm_head_model_2"), then its path in the model.
        let map = try weightMap(dir + "/tf_model.h5.index.json")
        #expect(map.keys.allSatisfy { $0.hasPrefix("tfgpt2lm_head_model") && $0.contains("/transformer/") && $0.hasSuffix(":0") })
        let shard = try #require(map.first { $0.key.hasSuffix("/transformer/h_._0/attn/c_attn/weight:0") }?.value)
        let table = try TFCheckpoint.open(path: dir + "/" + shard, layout: .shard)[0]
        #expect(table.info("transformer.h.0.attn.c_attn.weight")?.shape == [32, 96])
        #expect(table.info("transformer.h.0.attn.c_attn.bias")?.shape == [96])  // stored (1, 96)
        #expect(TFCheckpoint.indexKey("tfgpt2lm_head_model/transformer/h_._0/ln_1/gamma:0") == "transformer.h.0.ln_1.weight")
        #expect(TFCheckpoint.indexKey("tfgpt2_for_sequence_classification/score/kernel:0") == "score.weight")
        // The head class's Dense kernel is transposed to nn.Linear's (out, in) as in tf_model.h5.
        let seqcls = try GPT2Model.load(directory: TFFlaxFixtures.directory("tf-seqcls-sharded"))
        #expect(seqcls.weights.format == .tensorflow && seqcls.weights.heads["score.weight"]?.shape == [3, 32])
    }
}
