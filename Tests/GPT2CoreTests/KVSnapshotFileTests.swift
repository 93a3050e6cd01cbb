// KV snapshot files (issue #15 point 1): a cache written and read back holds the same bytes and
// continues with the same logits; every damaged, foreign or stale file is rejected with a reason and
// allocates nothing; the fingerprint changes with the weights' type and the KV type.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct KVSnapshotFileTests {
    static let model = try! GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
    let c = KVSnapshotFileTests.model.config
    let tokens: [Int32] = (0..<40).map { Int32(($0 * 37 + 11) % 1000) }

    func folder() -> String {
        let dir = NSTemporaryDirectory() + "kvsnap-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A cache of `tokens` computed by one prefill plus decode steps (so both paths wrote into it).
    func computed(_ pool: KVBlockPool) throws -> KVCache {
        let runner = GPT2Runner(config: c, weights: Self.model.weights)
        let cache = KVCache(pool: pool)
        _ = try runner.forward([ForwardRequest(cache: cache, tokens: Array(tokens[0..<35]))])
        for t in tokens[35...] { _ = try runner.forward([ForwardRequest(cache: cache, tokens: [t])]) }
        return cache
    }

    /// Every stored key and value row of positions 0..<n, as bytes.
    func rows(_ cache: KVCache, _ n: Int) -> [[UInt8]] {
        let bytes = c.nEmbd * cache.pool.dtype.bytes
        return (0..<c.nLayer).flatMap { l in
            (0..<n).flatMap { p in
                [Array(UnsafeRawBufferPointer(start: cache.keys(layer: l, position: p), count: bytes)),
                 Array(UnsafeRawBufferPointer(start: cache.values(layer: l, position: p), count: bytes))]
            }
        }
    }

    @Test(arguments: [KVDType.float32, .float16])
    func aSnapshotReadsBackTheSameBytesAndContinuesIdentically(_ dtype: KVDType) throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let saved = try computed(KVBlockPool(config: c, blockTokens: 16, dtype: dtype))
        let path = dir + "/s.kv"
        let size = try KVSnapshotFile.write(saved, tokens: tokens[...], fingerprint: String(repeating: "a", count: 32), to: path)
        let pool = KVBlockPool(config: c, blockTokens: 8, dtype: dtype)  // another block size: positions are re-blocked
        #expect(size == KVSnapshotFile.fileBytes(positions: 40, pool: pool))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == size)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["s.kv"], "no temporary file left")
        let history = tokens + [5, 6]  // the session went on after the snapshot: a prefix is enough
        let restored = try KVSnapshotFile.read(path: path, into: pool, fingerprint: String(repeating: "a", count: 32), history: history)
        #expect(restored.count == 40)
        #expect(rows(restored, 40) == rows(saved, 40))
        let runner = GPT2Runner(config: c, weights: Self.model.weights)
        let a = try runner.forward([ForwardRequest(cache: saved, tokens: [5, 6], logits: .all)])[0].logits
        let b = try runner.forward([ForwardRequest(cache: restored, tokens: [5, 6], logits: .all)])[0].logits
        #expect(a == b, "the same bytes give the same logits")
    }

    @Test func everyDamagedOrForeignFileIsRejectedAndAllocatesNothing() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fp = String(repeating: "0", count: 31) + "1"
        let saved = try computed(KVBlockPool(config: c, blockTokens: 16))
        let path = dir + "/s.kv"
        try KVSnapshotFile.write(saved, tokens: tokens[...], fingerprint: fp, to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let pool = KVBlockPool(config: c, blockTokens: 16)

        func rejection(_ bytes: Data? = nil, fingerprint: String? = nil, history: [Int32]? = nil, into p: KVBlockPool? = nil) -> String? {
            try! (bytes ?? good).write(to: URL(fileURLWithPath: path))
            do {
                _ = try KVSnapshotFile.read(path: path, into: p ?? pool, fingerprint: fingerprint ?? fp, history: history ?? tokens)
                return nil
            } catch {
                return error.reason
            }
        }
        func flipped(_ at: Int) -> Data { var d = good; d[at] ^= 0x10; return d }

        #expect(rejection() == nil)
        #expect(pool.blocksInUse == 0, "the accepted cache was freed with it")
        #expect(rejection(fingerprint: String(repeating: "f", count: 32))?.contains("fingerprint") == true)
        var other = tokens; other[3] += 1
        #expect(rejection(history: other)?.contains("not a prefix") == true)
        #expect(rejection(history: Array(tokens[0..<39]))?.contains("not a prefix") == true)
        #expect(rejection(into: KVBlockPool(config: c, blockTokens: 16, dtype: .bfloat16))?.contains("pool stores") == true)
        #expect(rejection(good.prefix(good.count - 1))?.contains("bytes, its header says") == true)
        #expect(rejection(good + [0])?.contains("bytes, its header says") == true)
        #expect(rejection(good.prefix(50))?.contains("shorter than its header") == true)
        #expect(rejection(Data())?.contains("shorter than its header") == true)
        #expect(rejection(flipped(good.count - 7)) == "data checksum mismatch")
        #expect(rejection(flipped(KVSnapshotHeader.byteCount)) == "data checksum mismatch")
        for at in 0..<KVSnapshotHeader.byteCount {
            #expect(rejection(flipped(at)) != nil, "a flipped header byte \(at) is caught")
        }
        #expect(rejection(flipped(20)) == "header checksum mismatch")
        #expect(pool.blocksInUse == 0, "no rejected read keeps a block")
        // The KV budget full: a rejection of its own kind (the file is fine).
        let tight = KVBlockPool(config: c, blockTokens: 16, budgetBytes: KVBlockPool(config: c, blockTokens: 16).bytesPerBlock)
        try! good.write(to: URL(fileURLWithPath: path))
        #expect(throws: KVSnapshotRejection.self) { try KVSnapshotFile.read(path: path, into: tight, fingerprint: fp, history: tokens) }
        do { _ = try KVSnapshotFile.read(path: path, into: tight, fingerprint: fp, history: tokens) } catch { #expect(error.noRoom) }
        #expect(tight.blocksInUse == 0)
    }

    @Test func aFolderThatCannotBeWrittenThrowsAndLeavesNothing() throws {
        let saved = try computed(KVBlockPool(config: c, blockTokens: 16))
        #expect(throws: KVSnapshotWriteError.self) {
            try KVSnapshotFile.write(saved, tokens: tokens[...], fingerprint: String(repeating: "a", count: 32), to: "/proc/gpt2d-none/s.kv")
        }
    }

    @Test func theHeaderRoundTripsAndItsParserChecksTheShapes() throws {
        let h = KVSnapshotHeader(dtype: .bfloat16, nLayer: 12, nEmbd: 768, positions: 900, fingerprint: String(repeating: "c", count: 32),
                                 tokensHash: 42, dataHash: 7)
        let bytes = h.encoded()
        #expect(bytes.count == KVSnapshotHeader.byteCount)
        #expect(try bytes.withUnsafeBytes { try KVSnapshotHeader(parsing: $0) } == h)
        #expect(h.dataBytes == 12 * 2 * 900 * 768 * 2)
    }

    @Test func theFingerprintFollowsWhatTheKeysAndValuesDependOn() throws {
        let dir = Fixtures.model("tiny-gpt2")
        let f32 = KVBlockPool(config: c), f16kv = KVBlockPool(config: c, dtype: .float16)
        let base = KVSnapshotFingerprint.of(model: Self.model, pool: f32)
        #expect(base.count == 32)
        #expect(KVSnapshotFingerprint.of(model: try GPT2Model.load(directory: dir), pool: f32) == base, "the same weights again")
        #expect(KVSnapshotFingerprint.of(model: Self.model, pool: f16kv) != base)
        #expect(KVSnapshotFingerprint.of(model: Self.model, pool: f32, extra: ["gpt2d 9.9"]) != base)
        let half = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .bfloat16))
        #expect(KVSnapshotFingerprint.of(model: half, pool: f32) != base)
        // The same bfloat16 weights at matmul precision medium compute other keys and values.
        let medium = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .bfloat16, matmulPrecision: .medium))
        #expect(KVSnapshotFingerprint.of(model: medium, pool: f32) != KVSnapshotFingerprint.of(model: half, pool: f32))
        // … and so do nf4's one-part 8-bit codes.
        let nf4 = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .nf4))
        let nf4Medium = try GPT2Model.load(directory: dir, options: LoadOptions(weightType: .nf4, matmulPrecision: .medium))
        #expect(KVSnapshotFingerprint.of(model: nf4Medium, pool: f32) != KVSnapshotFingerprint.of(model: nf4, pool: f32))
        #expect(KVSnapshotFingerprint.of(model: try GPT2Model.load(directory: Fixtures.model("tiny-silu")), pool: f32) != base)
    }
}
