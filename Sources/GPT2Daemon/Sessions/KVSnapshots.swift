// KVSnapshots — sessions' KV caches saved in the cache folder (`kv_snapshot_mib`, `cache_dir`), so a
// session restored after a restart continues without recomputing its history (issue #15 point 1).
//
// The history is the session (state_dir's database); a snapshot is only a cache of it, derivable at
// any time, so it lives in cache_dir/kv-snapshots, one file per session: "<session id>.kv"
// (GPT2Core's KVSnapshotFile: header, fingerprint, history hash, checksummed data).
//
//   save     at shutdown, after the journal has closed — the compute thread has stopped, every lease
//            has ended, so no block changes while it is read. Idle sessions whose caches hold
//            ≥ `minimumPositions` positions, most recently used first, while their files fit in
//            `limitBytes` together; a session that does not fit is skipped (older, smaller ones may
//            still fit). Every other file in the folder is removed (closed sessions, older runs).
//            Runs on the shutdown task, never on the compute thread; a write that fails is logged
//            once and the rest go on.
//   restore  at start (Daemon.init, after the sessions are restored, before anything is served):
//            each file of a restored session of a served model is read into a new cache of that
//            model's pool (most recently used sessions first, until the KV budget is full) when every
//            check passes: the fingerprint (KVSnapshotFingerprint: the served weights' bytes, weight
//            and KV types, kernel level, threads, gpt2d's version), the shapes, that it holds a prefix
//            of the session's history, the length and checksums. Any failure → a log line, the file
//            removed, and the session recomputes its cache from its history as before. Files of no
//            session are removed. A restored cache is a cache like any other: evictable when idle.
//
// Why at shutdown only: a snapshot per request would copy megabytes per step of every long session
// (or hold blocks the compute thread must not change); a SIGKILL or power cut loses the snapshots of
// that run, not the sessions, whose histories are in the database.
import Foundation
import GPT2Core
import Logging

final class KVSnapshots: @unchecked Sendable {
    /// Sessions shorter than this keep no snapshot: their prefill costs less than reading one.
    static let minimumPositions = 64
    /// The folder under cache_dir.
    static let folderName = "kv-snapshots"

    let folder: String
    let limitBytes: Int
    private let logger: Logger
    /// Each served model's fingerprint, by its `serial` (computed once per loaded model).
    private let fingerprints = Locked<[UInt64: String]>([:])

    /// Snapshots under `cacheDirectory`, `limitBytes` of files in all (kv_snapshot_mib); nil when
    /// either is missing or 0.
    init?(cacheDirectory: String?, limitBytes: Int, logger: Logger) {
        guard let cacheDirectory, limitBytes > 0 else { return nil }
        folder = (cacheDirectory.hasSuffix("/") ? String(cacheDirectory.dropLast()) : cacheDirectory) + "/" + Self.folderName
        self.limitBytes = limitBytes
        self.logger = logger
    }

    /// The fingerprint of `model`'s keys and values (hashes its weights the first time).
    func fingerprint(of model: ServedModel) -> String {
        if let known = fingerprints.withLock({ $0[model.serial] }) { return known }
        let f = KVSnapshotFingerprint.of(model: model.model, pool: model.pool, extra: ["gpt2d \(DaemonVersion.current)"])
        fingerprints.withLock { $0[model.serial] = f }
        return f
    }

    func path(of id: String) -> String { folder + "/" + id + ".kv" }

    /// Session ids become file names only when they cannot leave the folder.
    static func isFileSafe(_ id: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_".utf8)
        return !id.isEmpty && id.utf8.count <= 128 && id.utf8.allSatisfy(allowed.contains)
    }

    /// What a save or restore did.
    struct Counts: Equatable {
        var files = 0, bytes = 0, rejected = 0, skipped = 0
    }

    // MARK: save

    /// Writes the snapshots of `engine`'s idle cached sessions; only while its compute thread is stopped.
    @discardableResult
    func save(from engine: Engine) -> Counts {
        let started = Engine.now()
        var counts = Counts()
        do {  // a missing cache folder is created, as the quantized-weight cache does
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            logger.warning("KV snapshots not saved: cannot create the folder", metadata: ["folder": "\(folder)", "error": "\(error)"])
            return counts
        }
        var written = Set<String>(), failed = false
        for h in engine.sessions.cachedHistories(minimumPositions: Self.minimumPositions) where Self.isFileSafe(h.id) {
            guard let model = engine.models.first(where: { $0.pool === h.cache.pool }) else { counts.skipped += 1; continue }
            let bytes = KVSnapshotFile.fileBytes(positions: h.tokens.count, pool: model.pool)
            guard counts.bytes + bytes <= limitBytes else { counts.skipped += 1; continue }
            do {
                try KVSnapshotFile.write(h.cache, tokens: h.tokens, fingerprint: fingerprint(of: model), to: path(of: h.id))
                written.insert(h.id + ".kv")
                counts.files += 1
                counts.bytes += bytes
            } catch {
                counts.skipped += 1
                if !failed { logger.warning("KV snapshot not written", metadata: ["session": "\(h.id)", "error": "\(error)"]) }
                failed = true
            }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !written.contains(name) {
            unlink(folder + "/" + name)
        }
        logger.info("KV snapshots saved", metadata: [
            "folder": "\(folder)", "files": "\(counts.files)", "mib": "\(counts.bytes >> 20)", "skipped": "\(counts.skipped)",
            "ms": "\(Int((Engine.now() - started) * 1000))",
        ])
        return counts
    }

    // MARK: restore

    /// Gives `engine`'s restored sessions the caches their snapshots hold; before the engine starts.
    @discardableResult
    func restore(into engine: Engine) -> Counts {
        let started = Engine.now()
        var counts = Counts()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return counts }
        var found: [(id: String, model: String, tokens: [Int32], lastUsedAt: Double)] = []
        for name in names {
            let id = name.hasSuffix(".kv") ? String(name.dropLast(3)) : ""
            guard Self.isFileSafe(id), let h = engine.sessions.history(of: id) else {
                unlink(folder + "/" + name)  // a closed or expired session's, or a leftover temporary file
                continue
            }
            found.append((id, h.model, h.tokens, h.lastUsedAt))
        }
        var budgetFull = false
        for f in found.sorted(by: { $0.lastUsedAt > $1.lastUsedAt }) {
            guard let model = engine.model(named: f.model), !budgetFull else { counts.skipped += 1; continue }
            do throws(KVSnapshotRejection) {
                let cache = try KVSnapshotFile.read(path: path(of: f.id), into: model.pool, fingerprint: fingerprint(of: model), history: f.tokens)
                if engine.sessions.adoptRestoredCache(cache, for: f.id) {
                    counts.files += 1
                    counts.bytes += cache.allocatedBytes
                } else {
                    counts.skipped += 1
                }
            } catch {
                if error.noRoom { budgetFull = true; counts.skipped += 1; continue }  // the file stays valid
                counts.rejected += 1
                logger.warning("KV snapshot rejected; the session's cache is recomputed from its history",
                               metadata: ["session": "\(f.id)", "file": "\(path(of: f.id))", "reason": "\(error.reason)"])
                unlink(path(of: f.id))
            }
        }
        logger.info("KV snapshots restored", metadata: [
            "folder": "\(folder)", "sessions": "\(counts.files)", "mib": "\(counts.bytes >> 20)", "rejected": "\(counts.rejected)",
            "skipped": "\(counts.skipped)", "ms": "\(Int((Engine.now() - started) * 1000))",
        ])
        return counts
    }
}
