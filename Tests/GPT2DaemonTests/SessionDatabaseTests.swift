// The session database (Persistence/, issue #15 point 1): rows round-trip, WAL + synchronous=FULL,
// the schema's version, damaged rows and unreadable files dropped with a log line without stopping
// the open, a newer schema left alone, and the journal's group commit and per-change retry.
import Foundation
import GRDB
import Logging
import Testing
@testable import GPT2Daemon

/// A fresh folder under the temporary directory.
func temporaryStateFolder(_ tag: String = "state") -> String {
    let dir = NSTemporaryDirectory() + "gpt2d-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    return dir
}

/// Waits for a ticket's outcome (nil: written).
func outcome(_ ticket: WriteTicket) async -> EngineError? {
    await withCheckedContinuation { (c: CheckedContinuation<EngineError?, Never>) in ticket.whenDone { c.resume(returning: $0) } }
}

@Suite struct SessionDatabaseTests {
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func record(_ id: String, tokens: [Int32], uid: UInt32 = 1000) -> SessionRecord {
        SessionRecord(id: id, ownerUID: uid, model: "tiny", createdAt: 1_763_772_000.25, lastUsedAt: 1_763_772_031.5, tokens: tokens)
    }

    @Test func rowsRoundTripInWALWithFullSyncAndAVersionedSchema() throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = record("s-a", tokens: [0, 1, 50256, Int32.max]), b = record("s-b", tokens: [], uid: 0)
        do {
            let opened = try SessionDatabase.open(directory: dir, logger: quiet)
            #expect(opened.records.isEmpty && opened.dropped == 0 && opened.movedAside == nil)
            let modes = try opened.database.modes()
            #expect(modes.journal == "wal" && modes.synchronous == 2)
            #expect(try opened.database.appliedMigrations() == SessionDatabase.migrationNames)
            try opened.database.apply([.put(a), .put(b), .put(record("s-c", tokens: [7])), .delete("s-c")])
            var a2 = a
            a2.tokens += [9, 9]
            try opened.database.apply([.put(a2)])
            opened.database.close()
        }
        let again = try SessionDatabase.open(directory: dir, logger: quiet)
        defer { again.database.close() }
        var a2 = a
        a2.tokens += [9, 9]
        #expect(again.records.sorted { $0.id < $1.id } == [a2, b])
        let mode = try FileManager.default.attributesOfItem(atPath: again.database.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func aBitFlippedRowIsDroppedWithALogLineAndDeleted() throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Distinct histories whose bytes are easy to find in the file.
        let good = record("s-good", tokens: Array(repeating: 0x0A0B0C0D, count: 8))
        let bad = record("s-bad", tokens: Array(repeating: 0x01020304, count: 8))
        do {
            let opened = try SessionDatabase.open(directory: dir, logger: quiet)
            try opened.database.apply([.put(good), .put(bad)])
            opened.database.close()  // the last checkpoint puts the rows in the main file
        }
        let path = dir + "/" + SessionDatabase.fileName
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let needle: [UInt8] = [4, 3, 2, 1, 4, 3, 2, 1]
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[at + 1] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let log = CapturedLog()
        let reopened = try SessionDatabase.open(directory: dir, logger: Logger(label: "test", factory: { _ in log }))
        #expect(reopened.records == [good])
        #expect(reopened.dropped == 1)
        #expect(log.lines.contains { $0.level == .warning && $0.message == "damaged session record dropped" })
        reopened.database.close()
        // The damaged row was deleted: the next start finds nothing to drop.
        let third = try SessionDatabase.open(directory: dir, logger: quiet)
        #expect(third.records == [good] && third.dropped == 0)
        third.database.close()
    }

    @Test func anUnreadableFileIsMovedAsideAndANewOneStarted() throws {
        for damage in ["truncated", "garbage"] {
            let dir = temporaryStateFolder()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            do {
                let opened = try SessionDatabase.open(directory: dir, logger: quiet)
                try opened.database.apply((0..<40).map { .put(record("s-\($0)", tokens: Array(repeating: Int32($0), count: 300))) })
                opened.database.close()
            }
            let path = dir + "/" + SessionDatabase.fileName
            if damage == "truncated" {
                #expect(truncate(path, 3 * 4096 + 100) == 0)
            } else {
                try Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: path))
            }
            let log = CapturedLog()
            let reopened = try SessionDatabase.open(directory: dir, logger: Logger(label: "test", factory: { _ in log }))
            let aside = try #require(reopened.movedAside, "\(damage)")
            #expect(FileManager.default.fileExists(atPath: aside))
            #expect(log.lines.contains { $0.level == .error && $0.message.hasPrefix("state database unreadable") }, "\(damage)")
            // Whatever was salvaged is whole; the new file works.
            #expect(reopened.records.allSatisfy { r in r.tokens.count == 300 && r.tokens.allSatisfy { t in "s-\(t)" == r.id } })
            try reopened.database.apply([.put(record("s-new", tokens: [1]))])
            reopened.database.close()
            let third = try SessionDatabase.open(directory: dir, logger: quiet)
            #expect(third.records.contains { $0.id == "s-new" } && third.movedAside == nil)
            third.database.close()
        }
    }

    @Test func aSchemaFromANewerVersionIsLeftAlone() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let opened = try SessionDatabase.open(directory: dir, logger: quiet)
            try opened.database.apply([.put(record("s-a", tokens: [1]))])
            opened.database.close()
            // What a later gpt2d's migration leaves behind.
            try Self.recordMigration("v9-from-the-future", in: dir + "/" + SessionDatabase.fileName)
        }
        #expect(throws: SessionDatabaseError.self) { try SessionDatabase.open(directory: dir, logger: quiet) }
        // The daemon's start-up: a journal whose every change fails, start-up goes on, the file stays.
        let log = CapturedLog()
        let state = SessionState.open(directory: dir, logger: Logger(label: "test", factory: { _ in log }))
        #expect(state.records.isEmpty)
        #expect(await outcome(state.journal.submit(.delete("s-a")))?.code == .storageUnavailable)
        #expect(log.lines.contains { $0.level == .error && $0.message.hasPrefix("state folder unusable") })
        state.journal.close()
        #expect(try Self.sessionRows(in: dir + "/" + SessionDatabase.fileName) == 1)
    }

    /// Adds a migration identifier to the file, as another gpt2d version would (synchronous GRDB calls).
    static func recordMigration(_ identifier: String, in path: String) throws {
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [identifier]) }
        try other.close()
    }

    /// The number of rows of table `session`.
    static func sessionRows(in path: String) throws -> Int? {
        let other = try DatabaseQueue(path: path)
        defer { try? other.close() }
        return try other.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM session") }
    }

    @Test func changesQueuedTogetherShareOneCommitAndAFailureIsIsolated() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 24 pages of 4 KiB: room for small rows, not for a 200,000-token history.
        let opened = try SessionDatabase.open(directory: dir, maxPageCount: 24, logger: quiet)
        let journal = SessionJournal(database: opened.database, logger: quiet, paused: true)
        let small = (0..<8).map { journal.submit(.put(record("s-\($0)", tokens: [Int32($0)]))) }
        journal.resume()
        for t in small { #expect(await outcome(t) == nil) }
        let counts = journal.counts
        #expect(counts.commits == 1 && counts.written == 8, "eight changes queued together: one transaction")

        let log = CapturedLog()
        let watched = SessionJournal(database: opened.database, logger: Logger(label: "test", factory: { _ in log }), paused: true)
        let huge = watched.submit(.put(record("s-huge", tokens: Array(repeating: 5, count: 200_000))))
        let fine = watched.submit(.put(record("s-fine", tokens: [5])))
        watched.resume()
        let failure = await outcome(huge)
        #expect(failure?.code == .storageUnavailable)
        #expect(await outcome(fine) == nil, "a neighbour of a failed change is written on its own")
        #expect(log.lines.filter { $0.level == .error }.count == 1)
        watched.close()
        journal.close()
        let reread = try SessionDatabase.open(directory: dir, logger: quiet)
        #expect(Set(reread.records.map(\.id)) == Set((0..<8).map { "s-\($0)" } + ["s-fine"]))
        reread.database.close()
    }
}
