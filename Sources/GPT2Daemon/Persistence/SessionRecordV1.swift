// SessionRecordV1 — schema v1's rows, read only (the v2 migration and the salvage of a damaged v1 file):
//   id, owner_uid (the Unix user), model, created_at, last_used_at, tokens, checksum — the checksum
//   XXH3-64 of: id, owner_uid (4 bytes), model, created_at, last_used_at, tokens; strings and the BLOB
//   preceded by their byte counts (8 bytes little-endian), numbers as little-endian bit patterns.
import Foundation
import GPT2Core
import GRDB

enum SessionRecordV1 {
    /// Every row of a v1 table, rowid first.
    static let select = "SELECT rowid, id, owner_uid, model, created_at, last_used_at, tokens, checksum FROM session"

    static func canonicalBytes(id: String, ownerUID: UInt32, model: String, createdAt: Double, lastUsedAt: Double, tokens blob: Data) -> Data {
        var d = Data()
        func count(_ n: Int) { withUnsafeBytes(of: UInt64(n).littleEndian) { d.append(contentsOf: $0) } }
        count(id.utf8.count); d.append(contentsOf: Array(id.utf8))
        withUnsafeBytes(of: ownerUID.littleEndian) { d.append(contentsOf: $0) }
        count(model.utf8.count); d.append(contentsOf: Array(model.utf8))
        withUnsafeBytes(of: createdAt.bitPattern.littleEndian) { d.append(contentsOf: $0) }
        withUnsafeBytes(of: lastUsedAt.bitPattern.littleEndian) { d.append(contentsOf: $0) }
        count(blob.count); d.append(blob)
        return d
    }

    /// A v1 row's checksum, as the Int64 SQLite stores.
    static func checksum(id: String, ownerUID: UInt32, model: String, createdAt: Double, lastUsedAt: Double, tokens blob: Data) -> Int64 {
        let bytes = canonicalBytes(id: id, ownerUID: ownerUID, model: model, createdAt: createdAt, lastUsedAt: lastUsedAt, tokens: blob)
        return Int64(bitPattern: bytes.withUnsafeBytes { ContentDigest.checksum($0) })
    }

    /// A v1 row's values (rowid first) as a record (a Unix user's unnamed session), checked against its checksum.
    static func decode(_ v: [DatabaseValue.Storage]) -> Result<SessionRecord, SessionSchema.Reason> {
        guard v.count == 8, case .string(let id) = v[1], case .int64(let uid) = v[2], case .string(let model) = v[3],
              case .double(let created) = v[4], case .double(let used) = v[5], case .blob(let blob) = v[6],
              case .int64(let checksum) = v[7] else { return .failure(.init(text: "a field has the wrong type")) }
        guard let owner = UInt32(exactly: uid) else { return .failure(.init(text: "owner_uid out of range")) }
        guard checksum == Self.checksum(id: id, ownerUID: owner, model: model, createdAt: created, lastUsedAt: used, tokens: blob),
              let tokens = SessionRecord.tokens(fromBlob: blob) else { return .failure(.init(text: "checksum mismatch")) }
        return .success(SessionRecord(id: id, ownerUID: owner, model: model, createdAt: created, lastUsedAt: used, tokens: tokens))
    }
}
