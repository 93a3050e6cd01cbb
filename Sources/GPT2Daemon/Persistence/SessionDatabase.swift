// SessionDatabase — the state folder's SQLite database of sessions, through GRDB (the only file of the
// daemon that imports it; SessionJournal is its one writer, SessionStore its one reader at start-up).
//
//   file      <state_dir>/sessions.sqlite (+ -wal, -shm), created 0600 in a folder created 0700: the
//             histories are users' prompts.
//   mode      journal_mode=WAL, synchronous=FULL: a commit returns once its WAL frames are fsync'd, so
//             an acknowledged write survives SIGKILL and a power cut (WAL+NORMAL would only survive
//             the first). A write torn by a crash is a WAL frame whose checksum fails: SQLite ignores it
//             and the previous commit stands.
//   schema    versioned by DatabaseMigrator (table grdb_migrations; the migrations and the row layout:
//             SessionSchema.swift). An older file is migrated at open; a database written by a newer
//             gpt2d (a migration this one does not know) is left untouched: `open` throws `newerSchema`.
//   damage    every row carries an XXH3 checksum (SessionRecord); a row that fails it, or whose fields
//             have the wrong types, is dropped with a log line and deleted. A file SQLite cannot read
//             (SQLITE_CORRUPT / SQLITE_NOTADB: truncated, overwritten) is moved aside to
//             sessions.sqlite.damaged-<unix time> with a log line and a new one is started holding the
//             rows read before the damage. Neither stops start-up.
import Foundation
import GRDB
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Why the state database cannot be used.
enum SessionDatabaseError: Error, CustomStringConvertible {
    /// It was migrated by a newer gpt2d: these migrations are unknown here.
    case newerSchema(applied: [String])

    var description: String {
        switch self {
        case .newerSchema(let applied):
            return "the state database was written by a newer gpt2d (migrations \(applied.joined(separator: ", "))); it is left as it is"
        }
    }
}

final class SessionDatabase: @unchecked Sendable {
    static let fileName = "sessions.sqlite"
    /// The migrations of this version, in order (the schema version is their count).
    static var migrationNames: [String] { SessionSchema.migrationNames }

    let path: String
    private let queue: DatabaseQueue

    /// What `open` found.
    struct Opened {
        var database: SessionDatabase
        /// Every row that passed its checksum.
        var records: [SessionRecord]
        /// Rows dropped (checksum or type mismatch), deleted from the file.
        var dropped: Int
        /// Where an unreadable file was moved, if it was.
        var movedAside: String?
    }

    private init(path: String, queue: DatabaseQueue) {
        self.path = path; self.queue = queue
    }

    /// Opens (creating if missing) the database in `directory` and reads every valid session.
    /// `maxPageCount`: a page limit (PRAGMA max_page_count), for tests of a full disk.
    static func open(directory: String, maxPageCount: Int? = nil, logger: Logger) throws -> Opened {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = (directory as NSString).appendingPathComponent(fileName)
        do {
            let migrated = SessionSchema.MigrationDrops()
            let db = try connect(path: path, maxPageCount: maxPageCount, logger: logger, drops: migrated)
            let (records, dropped) = try db.readAll(logger: logger)
            return Opened(database: db, records: records, dropped: dropped + migrated.count, movedAside: nil)
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CORRUPT || e.resultCode == .SQLITE_NOTADB {
            // Salvage what reads, move the file aside, start a new one with it.
            let salvaged = (try? salvage(path: path)) ?? []
            let aside = path + ".damaged-\(Int(Date().timeIntervalSince1970))"
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
            logger.error("state database unreadable; moved aside, started a new one with the sessions that read",
                         metadata: ["file": "\(path)", "moved_to": "\(aside)", "error": "\(e)", "salvaged": "\(salvaged.count)"])
            let db = try connect(path: path, maxPageCount: maxPageCount, logger: logger, drops: SessionSchema.MigrationDrops())
            try db.apply(salvaged.map { .put($0) })
            return Opened(database: db, records: salvaged, dropped: 0, movedAside: aside)
        }
    }

    /// A connection in WAL + synchronous=FULL with the schema migrated (a newer schema → throws).
    private static func connect(path: String, maxPageCount: Int?, logger: Logger, drops: SessionSchema.MigrationDrops) throws -> SessionDatabase {
        if !FileManager.default.fileExists(atPath: path) {
            let fd = Glibc.open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
            _ = Glibc.close(fd)
        }
        var config = Configuration()
        config.label = "gpt2d-sessions"
        // Not `config.journalMode = .wal`: GRDB's WAL setup also sets synchronous=NORMAL.
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if let maxPageCount { try db.execute(sql: "PRAGMA max_page_count = \(maxPageCount)") }
        }
        let queue = try DatabaseQueue(path: path, configuration: config)
        let migrator = SessionSchema.migrator(logger: logger, drops: drops)
        let applied = try queue.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(migrationNames)
        guard unknown.isEmpty else { throw SessionDatabaseError.newerSchema(applied: unknown.sorted()) }
        try migrator.migrate(queue)
        return SessionDatabase(path: path, queue: queue)
    }

    /// The migrations applied to the file (its schema version).
    func appliedMigrations() throws -> [String] {
        try queue.read { db in try SessionSchema.migrator(logger: Logger(label: "gpt2d-sessions", factory: { _ in SwiftLogNoOpLogHandler() }), drops: .init()).appliedMigrations(db) }
    }

    /// The journal mode and synchronous level in effect ("wal", 2 = FULL).
    func modes() throws -> (journal: String, synchronous: Int) {
        try queue.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    /// Applies `changes` in one transaction (one fsync): all or none of them.
    func apply(_ changes: [SessionChange]) throws {
        guard !changes.isEmpty else { return }
        try queue.write { db in
            for change in changes {
                switch change {
                case .put(let r):
                    try db.execute(sql: SessionSchema.insert(), arguments: SessionSchema.arguments(r))
                case .delete(let id):
                    try db.execute(sql: "DELETE FROM session WHERE id = ?", arguments: [id])
                }
            }
        }
    }

    /// Every valid row; the others are logged, counted and deleted.
    private func readAll(logger: Logger) throws -> ([SessionRecord], Int) {
        var bad: [Int64] = []
        let records = try Self.scan(queue) { rowid, reason in
            bad.append(rowid)
            logger.warning("damaged session record dropped", metadata: ["file": "\(path)", "rowid": "\(rowid)", "reason": "\(reason)"])
        }
        if !bad.isEmpty {
            try queue.write { db in
                for rowid in bad { try db.execute(sql: "DELETE FROM session WHERE rowid = ?", arguments: [rowid]) }
            }
        }
        return (records, bad.count)
    }

    /// The rows of a damaged file that still read and pass their checksum (stops at the first error).
    private static func salvage(path: String) throws -> [SessionRecord] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: config)
        var found: [SessionRecord] = []
        do { _ = try scan(queue, into: &found) { _, _ in } } catch {}
        return found
    }

    private static func scan(_ queue: DatabaseQueue, dropped: (Int64, String) -> Void) throws -> [SessionRecord] {
        var found: [SessionRecord] = []
        try scan(queue, into: &found, dropped: dropped)
        return found
    }

    /// Appends each valid row to `found` as it is read (what was read survives a later error). A
    /// table still in v1's layout (a damaged file salvaged before its migration) is read as v1.
    private static func scan(_ queue: DatabaseQueue, into found: inout [SessionRecord], dropped: (Int64, String) -> Void) throws {
        try queue.read { db in
            let v1 = try SessionSchema.isV1(db)
            let rows = try Row.fetchCursor(db, sql: v1 ? SessionRecordV1.select : SessionSchema.select)
            while let row = try rows.next() {
                let v = Array(row.databaseValues).map(\.storage)
                guard case .int64(let rowid) = v[0] else { continue }
                switch v1 ? SessionRecordV1.decode(v) : SessionSchema.decode(v) {
                case .success(let r): found.append(r)
                case .failure(let reason): dropped(rowid, reason.text)
                }
            }
        }
    }

    /// Closes the connection (a last checkpoint folds the WAL into the main file).
    func close() {
        try? queue.close()
    }
}
