// SessionState — the start-up of persistence (state_dir set): open the database, make its journal,
// load the stored sessions into the engine's store; and its end (the journal closed once the
// services have stopped, so every queued write is on disk and the WAL folded into the file).
import Foundation
import Logging

enum SessionState {
    /// The journal for `directory` and the sessions read from it. A folder or file that cannot be
    /// used is logged and gives a journal whose every change fails with `storage_unavailable`.
    static func open(directory: String, logger: Logger) -> (journal: SessionJournal, records: [SessionRecord]) {
        do {
            let opened = try SessionDatabase.open(directory: directory, logger: logger)
            return (SessionJournal(database: opened.database, logger: logger), opened.records)
        } catch {
            logger.error("state folder unusable; session changes fail with storage_unavailable",
                         metadata: ["state_dir": "\(directory)", "error": "\(error)"])
            return (SessionJournal(unavailable: "\(directory): \(error)", logger: logger), [])
        }
    }

    /// Loads `records` into `engine`'s store and logs what it did (counts, milliseconds).
    static func restore(_ records: [SessionRecord], into engine: Engine, directory: String, logger: Logger) {
        let started = Engine.now()
        var limits: [String: (vocab: Int, positions: Int)] = [:]
        for m in engine.models { limits[m.name] = (m.model.config.vocabSize, m.model.config.nPositions) }
        let c = engine.sessions.restore(records, limits: limits, logger: logger)
        logger.info("sessions restored", metadata: [
            "state_dir": "\(directory)", "restored": "\(c.restored)", "expired": "\(c.expired)", "unfit": "\(c.unfit)",
            "other_model": "\(c.otherModel)", "ms": "\(Int((Engine.now() - started) * 1000))",
        ])
    }
}
