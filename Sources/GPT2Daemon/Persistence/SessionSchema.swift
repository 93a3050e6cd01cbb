// SessionSchema — the state database's schema, its migrations and how a row is read back.
//
//   v1-sessions              table session (id, owner_uid INTEGER, model, created_at, last_used_at,
//                            tokens, checksum): gpt2d of issue #15 point 1
//   v2-owner-name-timeout    the table rebuilt as SessionRecord.swift describes: owner becomes a
//                            principal key ("uid:<uid>" for every v1 row, so bearer-token principals'
//                            sessions can be stored too), name (NULL for v1 rows; UNIQUE per owner)
//                            and idle_timeout_s (NULL) added, every row's checksum recomputed over
//                            the new fields. A v1 row that fails its own checksum is not carried over
//                            (logged as a damaged record, counted in `dropped`), as start-up would
//                            have dropped it.
// Migrations run inside one transaction each (DatabaseMigrator): a crash in the middle leaves v1.
import Foundation
import GRDB
import Logging

enum SessionSchema {
    /// The migrations of this version, in order (the schema version is their count).
    static let migrationNames = ["v1-sessions", "v2-owner-name-timeout"]

    /// Every row of a v2 table, rowid first (`decode` reads them).
    static let select = "SELECT rowid, id, owner, name, model, created_at, last_used_at, idle_timeout_s, tokens, checksum FROM session"

    /// Inserts one row of `table` or updates the row of its id; `arguments` binds it. Not INSERT OR
    /// REPLACE: that would also delete another row holding the same (owner, name) — a name clash is
    /// a failed write instead (the store never makes one; the index is a second guard).
    static func insert(into table: String = "session") -> String {
        """
        INSERT INTO \(table) (id, owner, name, model, created_at, last_used_at, idle_timeout_s, tokens, checksum)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, name = excluded.name, model = excluded.model,
            created_at = excluded.created_at, last_used_at = excluded.last_used_at, idle_timeout_s = excluded.idle_timeout_s,
            tokens = excluded.tokens, checksum = excluded.checksum
        """
    }

    /// The values `insert` binds for `r`.
    static func arguments(_ r: SessionRecord) -> StatementArguments {
        [r.id, r.owner.storageKey, r.name, r.model, r.createdAt, r.lastUsedAt, r.idleTimeout, r.tokenBlob, r.checksum]
    }

    /// Counts the v1 rows the v2 migration did not carry over (read by SessionDatabase.open).
    final class MigrationDrops: @unchecked Sendable {
        var count = 0
    }

    /// The migrator; damaged v1 rows met by the v2 migration are logged to `logger` and counted in `drops`.
    static func migrator(logger: Logger, drops: MigrationDrops) -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration(migrationNames[0]) { db in
            try db.execute(sql: """
                CREATE TABLE session (
                    id TEXT NOT NULL PRIMARY KEY,
                    owner_uid INTEGER NOT NULL,
                    model TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_used_at REAL NOT NULL,
                    tokens BLOB NOT NULL,
                    checksum INTEGER NOT NULL
                ) STRICT
                """)
        }
        m.registerMigration(migrationNames[1]) { db in
            try db.execute(sql: """
                CREATE TABLE session_v2 (
                    id TEXT NOT NULL PRIMARY KEY,
                    owner TEXT NOT NULL,
                    name TEXT,
                    model TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_used_at REAL NOT NULL,
                    idle_timeout_s REAL,
                    tokens BLOB NOT NULL,
                    checksum INTEGER NOT NULL
                ) STRICT
                """)
            var carried: [SessionRecord] = []
            let rows = try Row.fetchCursor(db, sql: SessionRecordV1.select)
            while let row = try rows.next() {
                let v = Array(row.databaseValues).map(\.storage)
                switch SessionRecordV1.decode(v) {
                case .success(let r): carried.append(r)
                case .failure(let reason):
                    drops.count += 1
                    var rowid = "?"
                    if case .int64(let n)? = v.first { rowid = String(n) }
                    logger.warning("damaged session record dropped", metadata: ["rowid": "\(rowid)", "reason": "\(reason.text)", "schema": "v1"])
                }
            }
            for r in carried {
                try db.execute(sql: SessionSchema.insert(into: "session_v2"), arguments: SessionSchema.arguments(r))
            }
            try db.execute(sql: "DROP TABLE session")
            try db.execute(sql: "ALTER TABLE session_v2 RENAME TO session")
            try db.execute(sql: "CREATE UNIQUE INDEX session_owner_name ON session (owner, name)")
        }
        return m
    }

    /// Why a row was not read.
    struct Reason: Error { var text: String }

    /// A v2 row's values (rowid first) as a record, checked against its checksum.
    static func decode(_ v: [DatabaseValue.Storage]) -> Result<SessionRecord, Reason> {
        guard v.count == 10, case .string(let id) = v[1], case .string(let ownerKey) = v[2], case .string(let model) = v[4],
              case .double(let created) = v[5], case .double(let used) = v[6], case .blob(let blob) = v[8],
              case .int64(let checksum) = v[9] else { return .failure(Reason(text: "a field has the wrong type")) }
        let name: String?
        switch v[3] {
        case .null: name = nil
        case .string(let s): name = s
        default: return .failure(Reason(text: "a field has the wrong type"))
        }
        let idle: Double?
        switch v[7] {
        case .null: idle = nil
        case .double(let d): idle = d
        default: return .failure(Reason(text: "a field has the wrong type"))
        }
        guard checksum == SessionRecord.checksum(id: id, owner: ownerKey, name: name, model: model, createdAt: created, lastUsedAt: used,
                                                 idleTimeout: idle, tokens: blob),
              let tokens = SessionRecord.tokens(fromBlob: blob) else { return .failure(Reason(text: "checksum mismatch")) }
        guard let owner = Principal(storageKey: ownerKey) else { return .failure(Reason(text: "owner is not a principal key")) }
        return .success(SessionRecord(id: id, owner: owner, name: name, model: model, createdAt: created, lastUsedAt: used,
                                      idleTimeout: idle, tokens: tokens))
    }

    /// Whether the database's `session` table is still v1's (a damaged file is salvaged by its own layout).
    static func isV1(_ db: Database) throws -> Bool {
        try db.columns(in: "session").contains { $0.name == "owner_uid" }
    }
}
