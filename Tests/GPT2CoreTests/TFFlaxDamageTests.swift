// Bad tf_model.h5 / flax_model.msgpack files: wrong magic, truncated files, HDF5 datasets of the
// wrong shape or type (Tests/Fixtures/tfflax/bad-*, from scripts/make_tf_flax_fixtures.py), msgpack
// nesting bombs and sizes that lie (hand-made) — each a typed CheckpointError at load naming the
// file (and the tensor), never a crash, hang or unbounded allocation.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// A directory with tiny-hub's config.json and `bytes` as `name`.
private func checkpoint(_ name: String, _ bytes: [UInt8]) throws -> (dir: String, path: String) {
    let dir = makeTempDirectory("tfflax-bad")
    try FileManager.default.copyItem(atPath: Fixtures.model("tiny-hub") + "/config.json", toPath: dir + "/config.json")
    try writeFile(bytes, to: dir + "/" + name)
    return (dir, dir + "/" + name)
}

/// The first half of a fixture file.
private func firstHalf(_ path: String) throws -> [UInt8] {
    let all = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    return Array(all.prefix(all.count / 2))
}

/// A Flax tree {"wte": {"embedding": <leaf>}} with the leaf written by `leaf`.
private func flaxTree(_ leaf: (inout MsgPackBytes) -> Void) -> [UInt8] {
    var m = MsgPackBytes()
    m.map(1); m.string("wte"); m.map(1); m.string("embedding"); leaf(&m)
    return m.bytes
}

/// The error loading `dir` throws (nil if it loads).
private func loadError(_ dir: String) -> CheckpointError? {
    do { _ = try CheckpointLoader.load(directory: dir); return nil } catch { return error as? CheckpointError }
}

@Suite struct TFFlaxDamageTests {
    // MARK: msgpack

    @Test func nestingBombIsRefusedBeforeDecoding() throws {
        let level: [UInt8] = [0x81, 0xa1, 0x61]  // {"a": …
        let bomb: [UInt8] = Array([[UInt8]](repeating: level, count: 100_000).joined()) + [0xc0]  // … nil}}
        let (dir, path) = try checkpoint("flax_model.msgpack", bomb); defer { removeDirectory(dir) }
        guard case let .badMsgPack(file, reason)? = loadError(dir) else { Issue.record("not badMsgPack"); return }
        #expect(file == path && reason.contains("nested deeper than 16 levels"), "\(reason)")
    }

    @Test func containerCountsThatLieAreRefusedBeforeAllocating() throws {
        // A map declaring 2^32 − 1 entries in a 5-byte file (msgpack-c alone would allocate ~200 GB first).
        let (dir, path) = try checkpoint("flax_model.msgpack", [0xdf, 0xff, 0xff, 0xff, 0xff]); defer { removeDirectory(dir) }
        #expect(loadError(dir) == .badMsgPack(file: path, reason: "at byte 0: a map declares 4294967295 entries but only 0 bytes are left"))
        // A bin payload longer than the file.
        let (dir2, path2) = try checkpoint("flax_model.msgpack", [0x81, 0xa1, 0x61, 0xc6, 0x7f, 0xff, 0xff, 0xff]); defer { removeDirectory(dir2) }
        #expect(loadError(dir2) == .badMsgPack(file: path2, reason: "at byte 3: a bin payload of 2147483647 bytes runs past the end of the data (0 bytes left)"))
    }

    @Test func arraySizesThatLieNameTheParameter() throws {
        let lie = flaxTree { $0.ndarray(shape: [1000, 32], dtype: "float32", data: [UInt8](repeating: 0, count: 16)) }
        let (dir, path) = try checkpoint("flax_model.msgpack", lie); defer { removeDirectory(dir) }
        #expect(loadError(dir) == .badStorage(file: path, tensor: "wte/embedding", reason: "shape [1000, 32] of float32 needs 128000 bytes but the array holds 16"))
        let overflow = flaxTree { $0.ndarray(shape: [1 << 62, 8], dtype: "float32", data: []) }
        let (dir2, path2) = try checkpoint("flax_model.msgpack", overflow); defer { removeDirectory(dir2) }
        #expect(loadError(dir2) == .badStorage(file: path2, tensor: "wte/embedding", reason: "shape [4611686018427387904, 8] overflows"))
    }

    @Test func otherDTypesChunkedArraysAndNonTreesAreRefused() throws {
        let int64 = flaxTree { $0.ndarray(shape: [2], dtype: "int64", data: [UInt8](repeating: 0, count: 16)) }
        let (d1, p1) = try checkpoint("flax_model.msgpack", int64); defer { removeDirectory(d1) }
        #expect(loadError(d1) == .unsupportedDType(file: p1, tensor: "wte/embedding", dtype: "int64"))
        let chunked = flaxTree { m in m.map(1); m.string("__msgpack_chunked_array__"); m.bytes.append(0xc3) }
        let (d2, p2) = try checkpoint("flax_model.msgpack", chunked); defer { removeDirectory(d2) }
        #expect(loadError(d2) == .badStorage(file: p2, tensor: "wte/embedding", reason: "stored as a chunked array (flax splits arrays over 1 GiB), which is not supported"))
        let scalar = flaxTree { $0.uint(5) }
        let (d3, p3) = try checkpoint("flax_model.msgpack", scalar); defer { removeDirectory(d3) }
        #expect(loadError(d3) == .badMsgPack(file: p3, reason: "'wte/embedding' is a msgpack integer, expected a map or an ndarray (ext 1)"))
    }

    @Test func truncatedAndForeignMsgpackFilesNameTheFile() throws {
        let flax = TFFlaxFixtures.directory("flax-lm") + "/flax_model.msgpack"
        let (d1, p1) = try checkpoint("flax_model.msgpack", try firstHalf(flax)); defer { removeDirectory(d1) }
        guard case let .badMsgPack(file, reason)? = loadError(d1) else { Issue.record("truncated: not badMsgPack"); return }
        #expect(file == p1 && (reason.contains("runs past the end") || reason.contains("truncated")), "\(reason)")
        // Wrong magic: an HDF5 file under the Flax name.
        let h5 = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TFFlaxFixtures.directory("tf-lm") + "/tf_model.h5")))
        let (d2, p2) = try checkpoint("flax_model.msgpack", h5); defer { removeDirectory(d2) }
        guard case let .badMsgPack(file2, _)? = loadError(d2) else { Issue.record("h5 as msgpack: not badMsgPack"); return }
        #expect(file2 == p2)
    }

    // MARK: HDF5

    @Test func wrongMagicAndTruncatedHDF5NameTheFile() throws {
        let (d1, p1) = try checkpoint("tf_model.h5", [0x89, 0x48]); defer { removeDirectory(d1) }
        #expect(loadError(d1) == .badHDF5(file: p1, reason: "wrong magic: not an HDF5 file"))
        let (d2, p2) = try checkpoint("tf_model.h5", try firstHalf(TFFlaxFixtures.directory("tf-lm") + "/tf_model.h5"))
        defer { removeDirectory(d2) }
        let e = loadError(d2)
        switch e {
        case let .badHDF5(file, _)?, let .badStorage(file, _, _)?: #expect(file == p2, "\(String(describing: e))")
        default: Issue.record("truncated h5: \(String(describing: e))")
        }
    }

    @Test func datasetOfTheWrongShapeNamesTheTensor() throws {
        let dir = TFFlaxFixtures.directory("bad-h5-shape")
        #expect(loadError(dir) == .wrongShape(file: dir + "/tf_model.h5", tensor: "transformer.h.0.ln_1.weight", expected: [32], found: [31]))
    }

    @Test func datasetOfTheWrongTypeNamesTheDataset() throws {
        let dir = TFFlaxFixtures.directory("bad-h5-dtype")
        guard case let .unsupportedDType(file, tensor, dtype)? = loadError(dir) else { Issue.record("not unsupportedDType"); return }
        #expect(file == dir + "/tf_model.h5" && tensor.hasSuffix("h_._0/attn/c_attn/bias:0") && dtype == "integer of 4 bytes")
    }
}
