// SessionStore+Durability — what the store does with its journal's outcomes, and the restore at start.
//
// Write-before-ack: a reply that acknowledges a session change (session.open's, session.close's, the
// result of a request that continued a session) is sent from `afterWrite`'s callback, once the
// change's WriteTicket is done: written → the reply as usual; failed → `storage_unavailable` and the
// store undoes the change (an opened session is forgotten, a closed one is back, a lease's history is
// what it was before the request), so what the client was told matches what a restart would find.
//
// Restore: every record the database read back (Persistence/SessionDatabase: checksummed) becomes a
// session again — its history, name and own idle time-out; its KV cache is recomputed on first use,
// which gives the same tokens as a cache that was never dropped. Records idle past their time-out
// (their own, bounded by the daemon's current one) are deleted from disk;
// records of a model that is not served stay on disk untouched; records whose tokens do not fit the
// served model (an id outside its vocabulary, a history longer than n_positions) are dropped.
import Foundation
import Logging

extension SessionStore {
    /// Runs `body` once `write` is done (at once without a ticket): nil when written, the error when not.
    static func afterWrite(_ write: WriteTicket?, _ body: @escaping @Sendable (EngineError?) -> Void) {
        guard let write else { return body(nil) }
        write.whenDone(body)
    }

    /// A lease's write is done: the session becomes idle; a failed write puts back the history it had
    /// before the lease (its cache keeps only that prefix).
    func settle(_ s: Session, failure: EngineError?, before: [Int32]) {
        lock.lock(); defer { lock.unlock() }
        if failure != nil {
            let kept = PrefixCache.commonPrefix(s.tokens, before)
            s.tokens = before
            if let c = s.cache, c.count > kept { c.truncate(to: kept) }
            s.kvBytes = s.cache?.allocatedBytes ?? 0
        }
        s.busy = false
    }

    /// session.open's write failed: the session is forgotten (its id was never given out).
    func forgetFailedOpen(_ id: String) {
        lock.lock(); defer { lock.unlock() }
        if let s = sessions[id], !s.busy, s.tokens.isEmpty { sessions[id] = nil }
    }

    /// session.close's delete failed: the session is open again (the row is still on disk).
    func reopenAfterFailedClose(_ s: Session) {
        lock.lock(); defer { lock.unlock() }
        if sessions[s.id] == nil { sessions[s.id] = s }
    }

    /// What `restore` did with the records it was given.
    struct RestoreCounts: Equatable {
        var restored = 0, expired = 0, unfit = 0, otherModel = 0
    }

    /// Loads `records` (start-up, before any request) as open sessions. `limits`: each served model's
    /// vocabulary size and n_positions. `wallNow`: seconds since 1970.
    @discardableResult
    func restore(_ records: [SessionRecord], limits: [String: (vocab: Int, positions: Int)],
                 wallNow: Double = SessionStore.now(), logger: Logger) -> RestoreCounts {
        var counts = RestoreCounts()
        let tickNow = Engine.now()
        lock.lock(); defer { lock.unlock() }
        for r in records {
            guard let limit = limits[r.model] else { counts.otherModel += 1; continue }
            let idle = max(0, wallNow - r.lastUsedAt)
            if idle > min(r.idleTimeout ?? idleTimeout, idleTimeout) {
                counts.expired += 1
                _ = journal?.submit(.delete(r.id))
                continue
            }
            if r.tokens.count > limit.positions || r.tokens.contains(where: { $0 < 0 || Int($0) >= limit.vocab }) {
                counts.unfit += 1
                logger.warning("stored session does not fit its model; dropped",
                               metadata: ["session": "\(r.id)", "model": "\(r.model)", "tokens": "\(r.tokens.count)"])
                _ = journal?.submit(.delete(r.id))
                continue
            }
            sessions[r.id] = Session(record: r, tick: tickNow - idle, daemonTimeout: idleTimeout)
            counts.restored += 1
        }
        return counts
    }
}
