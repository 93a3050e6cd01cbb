// KV snapshots of sessions (issue #15 point 1): saved at shutdown newest first within kv_snapshot_mib,
// restored into a new engine's sessions; a damaged, foreign or stale file is rejected with a log line,
// removed, and the session recomputes; and an in-process daemon restarted on the same folders
// continues a long session from its restored cache (cached_tokens) with the tokens of a daemon that
// never stopped.
import Foundation
import GPT2Core
import GPT2JSON
import GPT2Wire
import Logging
import GPT2TestSupport
import Testing
@testable import GPT2Daemon

@Suite struct KVSnapshotStoreTests {
    let owner = Principal.unixUser(uid: 1000)
    /// One load of the tiny model for the whole suite (a tokenizer load is slow in debug builds): a
    /// restarted engine reuses it — the fingerprint of the same checkpoint loaded again is the same
    /// (KVSnapshotFileTests).
    static let tiny = try! ServedModel.load(name: "tiny", directory: TestPaths.tinyModel, budget: KVMemoryBudget(limitBytes: nil), blockTokens: 16)

    func served(_ kv: KVDType = .float32) throws -> ServedModel {
        try ServedModel.load(name: "tiny", directory: TestPaths.tinyModel, budget: KVMemoryBudget(limitBytes: nil), blockTokens: 16, kvDType: kv)
    }

    func engine(_ m: ServedModel) -> Engine {
        var o = EngineOptions()
        o.threads = TestThreads.count  // one pool size for the whole run (GPT2TestSupport/TestThreads.swift)
        return Engine(models: [m], options: o)
    }

    func tokens(_ n: Int, _ salt: Int) -> [Int32] { (0..<n).map { Int32(($0 * 31 + salt) % 1000) } }

    /// Opens a session on `e` that holds `history` and a computed cache of it.
    func session(_ e: Engine, _ m: ServedModel, _ history: [Int32]) throws -> String {
        let id = try e.sessions.open(model: "tiny", owner: owner).id
        let s = try e.sessions.acquire(id, owner: owner, model: "tiny")
        let cache = KVCache(pool: m.pool)
        _ = try GPT2Runner(config: m.model.config, weights: m.model.weights).forward([ForwardRequest(cache: cache, tokens: history)])
        e.sessions.release(s, tokens: history, cache: cache)
        usleep(2000)  // distinct last-use times: the save order is by them
        return id
    }

    /// A new engine holding `from`'s sessions as a restart would (histories only).
    func restarted(_ from: Engine, _ m: ServedModel) -> Engine {
        let e = engine(m)
        let records = from.sessions.lock.withLock { from.sessions.sessions.values.map(\.record) }
        e.sessions.restore(records, limits: ["tiny": (vocab: 1000, positions: 128)], logger: Logger(label: "quiet", factory: { _ in SwiftLogNoOpLogHandler() }))
        return e
    }

    func folder() -> String {
        let dir = NSTemporaryDirectory() + "kvsnaps-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func kvBytes(_ e: Engine, _ id: String) throws -> Int { try e.sessions.info(id, owner: owner).kvBytes }

    @Test func savesTheNewestWithinTheBoundAndRestoresThem() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = Self.tiny
        let e1 = engine(m)
        let a = try session(e1, m, tokens(70, 1)), b = try session(e1, m, tokens(80, 2))
        let short = try session(e1, m, tokens(30, 3)), d = try session(e1, m, tokens(100, 4))
        let limit = KVSnapshotFile.fileBytes(positions: 100, pool: m.pool) + KVSnapshotFile.fileBytes(positions: 80, pool: m.pool) + 10
        let snapshots = try #require(KVSnapshots(cacheDirectory: dir, limitBytes: limit, logger: Logger(label: "t")))
        try FileManager.default.createDirectory(atPath: snapshots.folder, withIntermediateDirectories: true)
        for leftover in ["s-gone.kv", "s-1.kv.tmp-abcdef"] { #expect(FileManager.default.createFile(atPath: snapshots.folder + "/" + leftover, contents: Data([1]))) }

        let saved = snapshots.save(from: e1)
        #expect(saved == KVSnapshots.Counts(files: 2, bytes: limit - 10, rejected: 0, skipped: 1), "d and b fit; a does not; the short one is not a candidate")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: snapshots.folder)) == [b + ".kv", d + ".kv"])

        let e2 = restarted(e1, m)
        #expect(FileManager.default.createFile(atPath: snapshots.path(of: "s-closed"), contents: Data([1])))
        let restored = snapshots.restore(into: e2)
        #expect(restored.files == 2 && restored.rejected == 0)
        #expect(try kvBytes(e2, b) > 0 && kvBytes(e2, d) > 0)
        #expect(try kvBytes(e2, a) == 0 && kvBytes(e2, short) == 0)
        #expect(e2.sessions.lock.withLock { e2.sessions.sessions[d]?.cache?.count } == 100)
        #expect(!FileManager.default.fileExists(atPath: snapshots.path(of: "s-closed")), "a file of no session is removed")
        #expect(FileManager.default.fileExists(atPath: snapshots.path(of: d)), "a used snapshot stays until the next save")
    }

    @Test func aDamagedForeignOrStaleSnapshotIsRejectedWithALogLineAndRemoved() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = Self.tiny, m16 = try served(.float16)
        let e1 = engine(m)
        let id = try session(e1, m, tokens(70, 5))
        let snapshots = try #require(KVSnapshots(cacheDirectory: dir, limitBytes: 1 << 20, logger: Logger(label: "t")))
        snapshots.save(from: e1)
        let path = snapshots.path(of: id)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func flipped(_ at: Int) -> Data { var d = good; d[at] ^= 1; return d }
        let cache = try #require(e1.sessions.lock.withLock { e1.sessions.sessions[id]?.cache })
        let foreignPath = dir + "/foreign.kv"
        try KVSnapshotFile.write(cache, tokens: tokens(70, 5)[...], fingerprint: String(repeating: "e", count: 32), to: foreignPath)
        let foreign = try Data(contentsOf: URL(fileURLWithPath: foreignPath))
        let stale = try Data(contentsOf: URL(fileURLWithPath: { () -> String in
            try! KVSnapshotFile.write(cache, tokens: tokens(70, 6)[...], fingerprint: snapshots.fingerprint(of: m), to: foreignPath)
            return foreignPath
        }()))

        let cases: [(String, Data, KVDType)] = [
            ("truncated", good.prefix(good.count - 100), .float32), ("bit-flipped data", flipped(good.count / 2), .float32),
            ("bit-flipped header", flipped(30), .float32), ("wrong length", good + Data(count: 512), .float32),
            ("another fingerprint", foreign, .float32), ("another history", stale, .float32), ("another KV type", good, .float16),
        ]
        for (what, bytes, kv) in cases {
            try bytes.write(to: URL(fileURLWithPath: path))
            let log = CapturedLog()
            let e2 = restarted(e1, kv == .float16 ? m16 : m)
            let counts = try #require(KVSnapshots(cacheDirectory: dir, limitBytes: 1 << 20, logger: Logger(label: "t", factory: { _ in log })))
                .restore(into: e2)
            #expect(counts.rejected == 1 && counts.files == 0, "\(what)")
            #expect(log.lines.contains { $0.level == .warning && $0.message.hasPrefix("KV snapshot rejected") }, "\(what): a log line")
            #expect(!FileManager.default.fileExists(atPath: path), "\(what): removed")
            #expect(try kvBytes(e2, id) == 0, "\(what): the session recomputes")
        }
        try good.write(to: URL(fileURLWithPath: path))
        #expect(snapshots.restore(into: restarted(e1, m)).files == 1, "the undamaged file is used")
    }
}

@Suite(.serialized) struct KVSnapshotDaemonTests {
    /// A long session (70 prompt tokens + 6) survives a restart with its KV cache: the next request
    /// reuses every position (cached_tokens) and gives the tokens of a daemon that never stopped.
    @Test func aRestoredSessionSkipsItsPrefillAndContinuesIdentically() async throws {
        let state = temporaryStateFolder(), cache = temporaryStateFolder("cache")
        defer { for d in [state, cache] { try? FileManager.default.removeItem(atPath: d) } }
        let config = DaemonHarness.config { $0.stateDir = .path(state); $0.cacheDir = .path(cache) }
        let first = (0..<70).map { ($0 * 53 + 7) % 1000 }, more = [11, 290]
        func generate(_ c: TestClient, _ session: String, _ tokens: [Int], id: Int64) async throws -> GenerateResponse {
            try GenerateResponse(from: try await c.call("generate", id: .int(id), [
                "model": "tiny", "session": .string(session), "tokens": tokens.jsonArray, "max_new_tokens": 6,
            ]))
        }

        let plain = try await DaemonHarness.start()
        let pc = try await plain.connect()
        let ps = try SessionInfo(from: try await pc.call("session.open", ["model": "tiny"])).session
        let reference = [try await generate(pc, ps, first, id: 1).tokens, try await generate(pc, ps, more, id: 2).tokens]
        pc.close()
        await plain.stop()

        let before = try await DaemonHarness.start(config)
        let c1 = try await before.connect()
        let s = try SessionInfo(from: try await c1.call("session.open", ["model": "tiny"])).session
        #expect(try await generate(c1, s, first, id: 1).tokens == reference[0])
        c1.close()
        await before.stop()
        #expect(FileManager.default.fileExists(atPath: cache + "/kv-snapshots/\(s).kv"))

        let after = try await DaemonHarness.start(config)
        let c2 = try await after.connect()
        let info = try SessionInfo(from: try await c2.call("session.info", ["session": .string(s)]))
        #expect((info.kvBytes ?? 0) > 0, "the cache is back before any request")
        let next = try await generate(c2, s, more, id: 2)
        #expect(next.tokens == reference[1])
        #expect(next.usage.cachedTokens >= first.count + 5, "the history's positions were not recomputed: \(next.usage.cachedTokens)")
        c2.close()
        await after.stop()
    }
}
