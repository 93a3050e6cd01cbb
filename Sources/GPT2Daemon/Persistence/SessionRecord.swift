// SessionRecord — one session as the state database stores it (a row of table `session`):
//   id            the session id ("s-" + 16 hex digits)
//   owner_uid     the owning Unix user (Principal.unixUser)
//   model         the served model's name
//   created_at    wall clock, seconds since 1970 (as `session.info` reports it)
//   last_used_at  wall clock, seconds since 1970, of the end of the last request that used it
//   tokens        the token history: 4 bytes per token, little-endian UInt32, in order
//   checksum      XXH3-64 (seed 0, as Int64 bit pattern) of `canonicalBytes` — every field above
// SQLite has no checksum of its own pages: a bit flipped on disk in a row's payload reads back as a
// different value, so the checksum is what tells a damaged row (dropped at start-up) from a good one.
import Foundation
import GPT2Core

struct SessionRecord: Sendable, Equatable {
    var id: String
    var ownerUID: UInt32
    var model: String
    var createdAt: Double
    var lastUsedAt: Double
    var tokens: [Int32]

    /// `tokens` as the stored BLOB: 4 bytes per token, little-endian.
    var tokenBlob: Data {
        var data = Data(capacity: tokens.count * 4)
        for t in tokens { withUnsafeBytes(of: UInt32(bitPattern: t).littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// The tokens of a stored BLOB, or nil when its length is not a multiple of 4.
    static func tokens(fromBlob blob: Data) -> [Int32]? {
        guard blob.count % 4 == 0 else { return nil }
        var out = [Int32](repeating: 0, count: blob.count / 4)
        blob.withUnsafeBytes { raw in
            for i in out.indices { out[i] = Int32(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
        }
        return out
    }

    /// What the checksum covers: each field in column order, strings and the BLOB preceded by their
    /// byte counts (8 bytes little-endian), numbers as little-endian bit patterns.
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

    /// XXH3-64 of the canonical bytes, as the Int64 SQLite stores.
    static func checksum(id: String, ownerUID: UInt32, model: String, createdAt: Double, lastUsedAt: Double, tokens blob: Data) -> Int64 {
        let bytes = canonicalBytes(id: id, ownerUID: ownerUID, model: model, createdAt: createdAt, lastUsedAt: lastUsedAt, tokens: blob)
        return Int64(bitPattern: bytes.withUnsafeBytes { ContentDigest.checksum($0) })
    }

    var checksum: Int64 {
        Self.checksum(id: id, ownerUID: ownerUID, model: model, createdAt: createdAt, lastUsedAt: lastUsedAt, tokens: tokenBlob)
    }
}

/// One change of the stored sessions, in the order the store made them.
enum SessionChange: Sendable, Equatable {
    /// Insert or replace the row of `record.id`.
    case put(SessionRecord)
    /// Remove the row of that id (closed or expired).
    case delete(String)
}
