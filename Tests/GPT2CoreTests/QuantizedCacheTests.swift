// The on-disk cache of quantized matrices (LoadOptions.cacheDirectory; Sources/GPT2Core/QuantCache):
//  - the first load of (checkpoint, type) writes the file (miss), the second maps it (hit): every
//    packed matrix then views the file's page-aligned mapping, and logits (prefill of 40 rows and
//    decode steps) are bit-identical to a fresh quantization without a cache;
//  - a corrupt file (truncated, a flipped header byte, a flipped data byte, a matrix of the wrong
//    size), a stale one (checkpoint changed in place, another quantizer or format version) and a
//    foreign one (random bytes, another safetensors file) is rejected and rebuilt — never used: the
//    load serves freshly quantized weights (bit-identical logits) and the next load hits;
//  - a folder that cannot be written still serves (miss with a write error), and other weight types
//    ignore the cache.
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct QuantizedCacheTests {
    init() { TestThreads.configure() }

    static let types: [WeightType] = [.int8, .nf4, .q4]

    /// A fresh empty folder under the system's temporary directory.
    static func tempFolder(_ tag: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gpt2d-qcache-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// A copy of the tiny fixture checkpoint (config.json + model.safetensors) that a test may change.
    static func checkpointCopy() throws -> String {
        let dir = try tempFolder("model")
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: Fixtures.model("tiny-gpt2") + "/" + name, toPath: dir + "/" + name)
        }
        return dir
    }

    static func load(_ dir: String, _ type: WeightType, cache: String?) throws -> GPT2Model {
        try GPT2Model.load(directory: dir, options: LoadOptions(weightType: type, cacheDirectory: cache))
    }

    /// Logits of a 40-token prefill (prefill product path) and then three decode steps of two
    /// sequences (the small-M int8 product path), concatenated.
    static func logits(_ model: GPT2Model) throws -> [Float] {
        let c = model.config
        let runner = GPT2Runner(config: c, weights: model.weights)
        let pool = KVBlockPool(config: c, blockTokens: 16)
        let caches = (0..<2).map { _ in KVCache(pool: pool) }
        var out = try runner.forward([ForwardRequest(cache: caches[0], tokens: (0..<40).map { Int32(($0 * 37) % c.vocabSize) },
                                                     logits: .all)]).flatMap(\.logits)
        for s in 0..<3 {
            out += try runner.forward(caches.enumerated().map { i, cache in
                ForwardRequest(cache: cache, tokens: [Int32((s * 101 + i * 7) % c.vocabSize)], logits: .all)
            }).flatMap(\.logits)
        }
        return out
    }

    /// Every packed matrix of the model (the four per layer and wte / the tied LM head).
    static func packed(_ w: GPT2Weights) -> [any PackedMatrix] {
        ([w.wte] + w.layers.flatMap { [$0.attnQKVWeight, $0.attnProjWeight, $0.mlpFCWeight, $0.mlpProjWeight] }).compactMap(\.packed)
    }

    /// Loads with the cache and checks the outcome and that the logits equal `fresh`'s bit for bit.
    @discardableResult
    static func expectLoad(_ dir: String, _ type: WeightType, cache: String, _ outcome: QuantizedCacheReport.Outcome,
                           fresh: [Float]) throws -> QuantizedCacheReport {
        let model = try load(dir, type, cache: cache)
        let report = try #require(model.weights.quantizedCache)
        #expect(report.outcome == outcome, "\(report)")
        #expect(try logits(model) == fresh, "\(type) \(outcome): logits differ from a fresh quantization")
        return report
    }

    @Test(arguments: types)
    func secondLoadMapsTheCacheAndComputesTheSameLogits(_ type: WeightType) throws {
        let cache = try Self.tempFolder("hit")
        let dir = Fixtures.model("tiny-gpt2")
        let fresh = try Self.logits(Self.load(dir, type, cache: nil))

        let first = try Self.expectLoad(dir, type, cache: cache, .miss, fresh: fresh)
        #expect(first.writeError == nil && first.rejected == nil)
        #expect(FileManager.default.fileExists(atPath: first.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cache)
        #expect(leftovers == [(first.path as NSString).lastPathComponent], "temporary files left: \(leftovers)")

        let second = try Self.load(dir, type, cache: cache)
        let report = try #require(second.weights.quantizedCache)
        #expect(report.outcome == .hit && report.path == first.path)
        #expect(try Self.logits(second) == fresh)
        // Zero copy: every segment lies inside the cache file's mapping, on a page boundary.
        let file = try SafeTensorsFile.open(path: report.path)
        let size = file.mapping.size
        let matrices = Self.packed(second.weights)
        #expect(matrices.count == 1 + 4 * second.config.nLayer)
        for m in matrices {
            #expect(Swift.type(of: m).weightType == type)
            for s in m.segments where s.count > 0 {
                #expect(Int(bitPattern: s.baseAddress!) % QuantizedCacheFile.alignment == 0)
            }
        }
        #expect(second.weights.packedByteCount < size && size - second.weights.packedByteCount < 64 * QuantizedCacheFile.alignment)
        // Named as documented: "<key>.<type>.<segment>", every tensor page-aligned in the file.
        #expect(file.info("h.0.attn.c_attn.weight.\(type.rawValue).0") != nil)
        #expect(file.info("wte.weight.\(type.rawValue).1") != nil)
        for name in file.names where !name.hasPrefix(QuantizedCacheFile.padPrefix) {
            #expect(file.info(name)!.fileRange.lowerBound % QuantizedCacheFile.alignment == 0, "\(name)")
        }
        #expect(file.metadata["gpt2d.weight_type"] == type.rawValue)
    }

    /// Ways to damage a valid cache file at `path` (its bytes).
    enum Damage: String, CaseIterable, CustomStringConvertible {
        case truncate, flipHeaderOffset, flipHeaderPadding, flipData, randomBytes, otherSafetensors
        var description: String { rawValue }

        func apply(to path: String) throws {
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
            switch self {
            case .truncate: bytes.removeLast(bytes.count / 3)
            case .flipHeaderOffset:
                // A digit of a data offset (the last tensor's end): still valid JSON, wrong layout.
                let text = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
                let at = try #require(text.utf8.lastIndex(of: UInt8(ascii: "]")))
                let offset = 8 + text.utf8.distance(from: text.utf8.startIndex, to: at) - 1
                bytes[offset] = bytes[offset] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
            case .flipHeaderPadding:
                // The header's last padding space becomes a tab: still the same JSON, so only the
                // header checksum sees it.
                #expect(bytes[8 + n - 1] == 0x20)
                bytes[8 + n - 1] = 0x09
            case .flipData:
                // One bit in the middle of the largest tensor (wte's packed values).
                let file = try SafeTensorsFile.open(path: path)
                let name = try #require(file.names.max { file.info($0)!.byteCount < file.info($1)!.byteCount })
                let range = file.info(name)!.fileRange
                bytes[range.lowerBound + range.count / 2] ^= 0x10
            case .randomBytes:
                var g = SplitMix64(seed: 0xDA4A_6E)
                bytes = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &g) }
            case .otherSafetensors:
                bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.model("tiny-gpt2") + "/model.safetensors")))
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }

    @Test(arguments: Damage.allCases, types)
    func aDamagedOrForeignFileIsRebuiltNeverUsed(_ damage: Damage, _ type: WeightType) throws {
        let cache = try Self.tempFolder("damage")
        let dir = Fixtures.model("tiny-gpt2")
        let fresh = try Self.logits(Self.load(dir, type, cache: nil))
        let first = try Self.expectLoad(dir, type, cache: cache, .miss, fresh: fresh)
        try damage.apply(to: first.path)
        let rebuilt = try Self.expectLoad(dir, type, cache: cache, .rebuilt, fresh: fresh)
        #expect(rebuilt.rejected != nil && rebuilt.writeError == nil)
        try Self.expectLoad(dir, type, cache: cache, .hit, fresh: fresh)
    }

    @Test func theRejectionSaysWhatWasWrong() throws {
        let cache = try Self.tempFolder("reason")
        let dir = Fixtures.model("tiny-gpt2")
        let fresh = try Self.logits(Self.load(dir, .q4, cache: nil))
        let expected: [(Damage, String)] = [
            (.truncate, "not a valid safetensors file"), (.flipHeaderPadding, "header checksum"),
            (.flipData, "checksum"), (.otherSafetensors, "no header checksum"),
        ]
        for (damage, words) in expected {
            let path = try Self.expectLoad(dir, .q4, cache: cache, damage == .truncate ? .miss : .hit, fresh: fresh).path
            try damage.apply(to: path)
            let report = try Self.expectLoad(dir, .q4, cache: cache, .rebuilt, fresh: fresh)
            #expect(report.rejected?.contains(words) == true, "\(damage): \(report.rejected ?? "nil")")
        }
    }

    @Test(arguments: types)
    func aMatrixOfTheWrongSizeUnderAValidKeyIsRebuilt(_ type: WeightType) throws {
        let cache = try Self.tempFolder("size")
        let dir = Fixtures.model("tiny-gpt2")
        let model = try Self.load(dir, type, cache: nil)
        let fresh = try Self.logits(model)
        let path = try Self.expectLoad(dir, type, cache: cache, .miss, fresh: fresh).path
        // The file rewritten with the right key and checksums, but h.0's c_proj one block wider.
        let proj = try #require(model.weights.layers[0].attnProjWeight.packed)
        let k = proj.inputs + 64
        let wide = [Float](repeating: 0.25, count: proj.outputs * k)
        let format = try #require(PackedFormats.type(for: type))
        let wrong = wide.withUnsafeBufferPointer { format.init(quantizing: $0.baseAddress!, outputs: proj.outputs, inputs: k) }
        let matrices = Self.matrices(model.weights).map { $0.key == "h.0.attn.c_proj.weight" ? ($0.key, wrong) : $0 }
        let key = try Self.key(of: path, type)
        try QuantizedCacheFile.write(path: path, key: key, matrices: matrices)
        #expect(try QuantizedCacheFile.open(path: path, key: key, preload: false) != nil, "the file itself is well-formed")
        let report = try Self.expectLoad(dir, type, cache: cache, .rebuilt, fresh: fresh)
        #expect(report.rejected?.contains("h.0.attn.c_proj.weight") == true, "\(report.rejected ?? "nil")")
    }

    /// Every packed matrix of `w` under its checkpoint key, as the loader writes them.
    static func matrices(_ w: GPT2Weights) -> [(key: String, matrix: any PackedMatrix)] {
        var out: [(key: String, matrix: any PackedMatrix)] = []
        if let m = w.wte.packed { out.append(("wte.weight", m)) }
        for (i, l) in w.layers.enumerated() {
            for (name, t) in [("attn.c_attn", l.attnQKVWeight), ("attn.c_proj", l.attnProjWeight),
                              ("mlp.c_fc", l.mlpFCWeight), ("mlp.c_proj", l.mlpProjWeight)] {
                if let m = t.packed { out.append(("h.\(i).\(name).weight", m)) }
            }
        }
        return out
    }

    /// The key stored in a valid cache file.
    static func key(of path: String, _ type: WeightType) throws -> QuantizedCacheKey {
        let file = try SafeTensorsFile.open(path: path)
        let digest = try #require(file.metadata["gpt2d.checkpoint_xxh3_128"])
        return QuantizedCacheKey(checkpointDigest: digest, weightType: type, format: try #require(PackedFormats.type(for: type)))
    }

    @Test(arguments: types)
    func aCheckpointChangedInPlaceMakesTheFileStale(_ type: WeightType) throws {
        let cache = try Self.tempFolder("stale")
        let dir = try Self.checkpointCopy()
        let first = try Self.expectLoad(dir, type, cache: cache, .miss, fresh: try Self.logits(Self.load(dir, type, cache: nil)))
        // One value of h.1's c_fc weight changes (same size, same header, same file name).
        let weights = dir + "/model.safetensors"
        let file = try SafeTensorsFile.open(path: weights)
        let name = try #require(file.names.first { $0.hasSuffix("h.1.mlp.c_fc.weight") })
        let info = try #require(file.info(name))
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: weights)))
        bytes[info.fileRange.lowerBound + 4 * 77 + 3] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: weights))
        let fresh = try Self.logits(Self.load(dir, type, cache: nil))
        let report = try Self.expectLoad(dir, type, cache: cache, .rebuilt, fresh: fresh)
        #expect(report.path == first.path)
        #expect(report.rejected?.contains("gpt2d.checkpoint_xxh3_128") == true, "\(report.rejected ?? "nil")")
        try Self.expectLoad(dir, type, cache: cache, .hit, fresh: fresh)
    }

    @Test(arguments: [("quantizer", "gpt2d.quantizer"), ("format", "gpt2d.cache_format")])
    func anotherVersionMakesTheFileStale(_ bump: String, _ field: String) throws {
        let cache = try Self.tempFolder("version")
        let dir = Fixtures.model("tiny-gpt2")
        let model = try Self.load(dir, .int8, cache: nil)
        let fresh = try Self.logits(model)
        let path = try Self.expectLoad(dir, .int8, cache: cache, .miss, fresh: fresh).path
        let current = try Self.key(of: path, .int8)
        let old = QuantizedCacheKey(checkpointDigest: current.checkpointDigest, weightType: .int8, format: Int8Matrix.self,
                                    quantizerVersion: current.quantizerVersion + (bump == "quantizer" ? 1 : 0),
                                    formatVersion: current.formatVersion + (bump == "format" ? 1 : 0))
        try QuantizedCacheFile.write(path: path, key: old, matrices: Self.matrices(model.weights))
        let report = try Self.expectLoad(dir, .int8, cache: cache, .rebuilt, fresh: fresh)
        #expect(report.rejected?.contains(field) == true, "\(report.rejected ?? "nil")")
        try Self.expectLoad(dir, .int8, cache: cache, .hit, fresh: fresh)
    }

    @Test func aFolderThatCannotBeWrittenStillServes() throws {
        let dir = Fixtures.model("tiny-gpt2")
        let fresh = try Self.logits(Self.load(dir, .q4, cache: nil))
        // /proc takes no new files, even from root; a regular file cannot be a folder.
        let plainFile = try Self.tempFolder("file") + "/not-a-folder"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: plainFile))
        for folder in ["/proc", "/proc/gpt2d-cache", plainFile] {
            let report = try Self.expectLoad(dir, .q4, cache: folder, .miss, fresh: fresh)
            #expect(report.writeError != nil, "\(folder): \(report)")
            #expect(!FileManager.default.fileExists(atPath: report.path))
        }
    }

    @Test func aMissingFolderIsCreated() throws {
        let cache = try Self.tempFolder("create") + "/a/b"
        let dir = Fixtures.model("tiny-gpt2")
        let fresh = try Self.logits(Self.load(dir, .nf4, cache: nil))
        let report = try Self.expectLoad(dir, .nf4, cache: cache, .miss, fresh: fresh)
        #expect(report.writeError == nil && FileManager.default.fileExists(atPath: report.path))
        try Self.expectLoad(dir, .nf4, cache: cache, .hit, fresh: fresh)
    }

    @Test func otherWeightTypesIgnoreTheCache() throws {
        let cache = try Self.tempFolder("other")
        for type: WeightType? in [nil, .float32, .bfloat16, .float16] {
            let model = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"), options: LoadOptions(weightType: type, cacheDirectory: cache))
            #expect(model.weights.quantizedCache == nil)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).isEmpty)
    }

    @Test func oneFilePerDirectoryAndTypeNamedAfterTheDirectory() throws {
        let a = QuantizedCacheKey.fileName(checkpointDirectory: "/srv/models/gpt2", weightType: .q4)
        #expect(a.hasPrefix("gpt2.q4.") && a.hasSuffix(".safetensors"))
        #expect(a == QuantizedCacheKey.fileName(checkpointDirectory: "/srv/models/gpt2/", weightType: .q4))
        #expect(a != QuantizedCacheKey.fileName(checkpointDirectory: "/srv/other/gpt2", weightType: .q4))
        #expect(a != QuantizedCacheKey.fileName(checkpointDirectory: "/srv/models/gpt2", weightType: .int8))
        #expect(QuantizedCacheKey.fileName(checkpointDirectory: "/m/a b:c", weightType: .nf4).hasPrefix("a_b_c.nf4."))
    }
}
