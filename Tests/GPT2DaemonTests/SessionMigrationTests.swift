// The state database's schema v2 (issue #15 point 2): a v1 file (owner_uid, no names) is migrated at
// open — its rows kept as Unix users' unnamed sessions, a damaged v1 row dropped with the usual log
// line —, owners are principal keys (bearer-token principals' sessions are stored too), names and
// idle time-outs round-trip, and a name is unique per owner in the file as well.
import Foundation
import GRDB
import Logging
import Testing
@testable import GPT2Daemon

@Suite struct SessionMigrationTests {
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Writes a file exactly as gpt2d with schema v1 left it: its migration table and its rows.
    static func writeV1(_ path: String, rows: [SessionRecord], damaged: Set<String> = []) throws {
        let q = try DatabaseQueue(path: path)
        try q.write { db in
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v1-sessions')")
            try db.execute(sql: """
                CREATE TABLE session (
                    id TEXT NOT NULL PRIMARY KEY, owner_uid INTEGER NOT NULL, model TEXT NOT NULL, created_at REAL NOT NULL,
                    last_used_at REAL NOT NULL, tokens BLOB NOT NULL, checksum INTEGER NOT NULL
                ) STRICT
                """)
            for r in rows {
                guard case .unixUser(let uid) = r.owner else { continue }
                var sum = SessionRecordV1.checksum(id: r.id, ownerUID: uid, model: r.model, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, tokens: r.tokenBlob)
                if damaged.contains(r.id) { sum ^= 1 }
                try db.execute(sql: "INSERT INTO session VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [r.id, Int64(uid), r.model, r.createdAt, r.lastUsedAt, r.tokenBlob, sum])
            }
        }
        try q.close()
    }

    @Test func aV1FileIsMigratedKeepingItsSessionsAndDroppingItsDamagedRows() throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + SessionDatabase.fileName
        let rows = [SessionRecord(id: "s-a", ownerUID: 1000, model: "m", createdAt: 1.5, lastUsedAt: 2.5, tokens: [1, 2, 3]),
                    SessionRecord(id: "s-b", ownerUID: 0, model: "n", createdAt: 3, lastUsedAt: 4, tokens: []),
                    SessionRecord(id: "s-bad", ownerUID: 1000, model: "m", createdAt: 5, lastUsedAt: 6, tokens: [9])]
        try Self.writeV1(path, rows: rows, damaged: ["s-bad"])

        let log = CapturedLog()
        let opened = try SessionDatabase.open(directory: dir, logger: Logger(label: "test", factory: { _ in log }))
        #expect(try opened.database.appliedMigrations() == ["v1-sessions", "v2-owner-name-timeout"])
        #expect(opened.records.sorted { $0.id < $1.id } == Array(rows.prefix(2)))
        #expect(opened.records.allSatisfy { $0.name == nil && $0.idleTimeout == nil })
        #expect(opened.dropped == 1)
        #expect(log.lines.contains { $0.level == .warning && $0.message == "damaged session record dropped" })
        // The migrated file takes v2 rows; the next open migrates nothing and drops nothing.
        try opened.database.apply([.put(SessionRecord(id: "s-c", owner: .token(name: "ci-bot"), name: "chat", model: "m",
                                                      createdAt: 7, lastUsedAt: 8, idleTimeout: 30, tokens: [4]))])
        opened.database.close()
        let again = try SessionDatabase.open(directory: dir, logger: quiet)
        defer { again.database.close() }
        #expect(again.dropped == 0 && Set(again.records.map(\.id)) == ["s-a", "s-b", "s-c"])
        #expect(again.records.first { $0.id == "s-c" }?.owner == .token(name: "ci-bot"))
    }

    @Test func ownersNamesAndTimeOutsRoundTripAndANameIsUniquePerOwner() throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let opened = try SessionDatabase.open(directory: dir, logger: quiet)
        let a = SessionRecord(id: "s-a", owner: .token(name: "alice@example.org"), name: "chat 😀", model: "m", createdAt: 1, lastUsedAt: 2,
                              idleTimeout: 0.5, tokens: [1])
        let b = SessionRecord(id: "s-b", owner: .unixUser(uid: 1000), name: "chat 😀", model: "m", createdAt: 1, lastUsedAt: 2, tokens: [2])
        try opened.database.apply([.put(a), .put(b)])
        // The same owner and name under another id is refused, and nothing of that change is written.
        var clash = a
        clash.id = "s-clash"
        #expect(throws: DatabaseError.self) { try opened.database.apply([.put(clash)]) }
        // Updating a row under its own id keeps its name.
        var a2 = a
        a2.tokens = [1, 7]
        try opened.database.apply([.put(a2)])
        opened.database.close()
        let reread = try SessionDatabase.open(directory: dir, logger: quiet)
        defer { reread.database.close() }
        #expect(reread.records.sorted { $0.id < $1.id } == [a2, b])
    }

    @Test func principalKeysReadBackOnlyWhatTheyWrote() {
        for p in [Principal.unixUser(uid: 0), .unixUser(uid: UInt32.max), .token(name: "ci-bot"), .token(name: "a:b")] {
            #expect(Principal(storageKey: p.storageKey) == p)
        }
        #expect(Principal.unixUser(uid: 1000).storageKey == "uid:1000")
        #expect(Principal.token(name: "ci-bot").storageKey == "token:ci-bot")
        for bad in ["", "uid:", "uid:-1", "uid:01", "uid:4294967296", "token:", "user:1", "1000"] {
            #expect(Principal(storageKey: bad) == nil, "\(bad)")
        }
    }
}
