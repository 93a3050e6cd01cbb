// SessionRecord — one session as the state database stores it (a row of table `session`, schema v2):
//   id              the session id ("s-" + 16 hex digits)
//   owner           the owning principal's key ("uid:1000", "token:ci-bot": PrincipalKey.swift)
//   name            its owner's name for it, or NULL (unique per owner: index session_owner_name)
//   model           the served model's name
//   created_at      wall clock, seconds since 1970 (as `session.info` reports it)
//   last_used_at    wall clock, seconds since 1970, of the end of the last request that used it
//   idle_timeout_s  its own idle time-out in seconds, or NULL (the daemon's session_idle_timeout_s)
//   tokens          the token history: 4 bytes per token, little-endian UInt32, in order
//   checksum        XXH3-64 (seed 0, as Int64 bit pattern) of `canonicalBytes` — every field above
// SQLite has no checksum of its own pages: a bit flipped on disk in a row's payload reads back as a
// different value, so the checksum is what tells a damaged row (dropped at start-up) from a good one.
// Schema v1's rows (owner_uid, no name or time-out) are read by SessionRecordV1.swift.
import Foundation
import GPT2Core

struct SessionRecord: Sendable, Equatable {
    var id: String
    var owner: Principal
    var name: String?
    var model: String
    var createdAt: Double
    var lastUsedAt: Double
    var idleTimeout: Double?
    var tokens: [Int32]

    init(id: String, owner: Principal, name: String? = nil, model: String, createdAt: Double, lastUsedAt: Double,
         idleTimeout: Double? = nil, tokens: [Int32]) {
        self.id = id; self.owner = owner; self.name = name; self.model = model
        self.createdAt = createdAt; self.lastUsedAt = lastUsedAt; self.idleTimeout = idleTimeout; self.tokens = tokens
    }

    /// An unnamed session of a Unix user with the daemon's idle time-out.
    init(id: String, ownerUID: UInt32, model: String, createdAt: Double, lastUsedAt: Double, tokens: [Int32]) {
        self.init(id: id, owner: .unixUser(uid: ownerUID), model: model, createdAt: createdAt, lastUsedAt: lastUsedAt, tokens: tokens)
    }

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

    /// What the checksum covers, each field in column order: strings and the BLOB preceded by their
    /// byte counts (8 bytes little-endian), numbers as little-endian bit patterns, a NULL-able field
    /// preceded by one byte (0 NULL, 1 present).
    static func canonicalBytes(id: String, owner: String, name: String?, model: String, createdAt: Double, lastUsedAt: Double,
                               idleTimeout: Double?, tokens blob: Data) -> Data {
        var d = Data()
        func count(_ n: Int) { withUnsafeBytes(of: UInt64(n).littleEndian) { d.append(contentsOf: $0) } }
        func string(_ s: String) { count(s.utf8.count); d.append(contentsOf: Array(s.utf8)) }
        func number(_ x: Double) { withUnsafeBytes(of: x.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        string(id)
        string(owner)
        d.append(name == nil ? 0 : 1)
        if let name { string(name) }
        string(model)
        number(createdAt)
        number(lastUsedAt)
        d.append(idleTimeout == nil ? 0 : 1)
        if let idleTimeout { number(idleTimeout) }
        count(blob.count); d.append(blob)
        return d
    }

    /// XXH3-64 of the canonical bytes, as the Int64 SQLite stores.
    static func checksum(id: String, owner: String, name: String?, model: String, createdAt: Double, lastUsedAt: Double,
                         idleTimeout: Double?, tokens blob: Data) -> Int64 {
        let bytes = canonicalBytes(id: id, owner: owner, name: name, model: model, createdAt: createdAt, lastUsedAt: lastUsedAt,
                                   idleTimeout: idleTimeout, tokens: blob)
        return Int64(bitPattern: bytes.withUnsafeBytes { ContentDigest.checksum($0) })
    }

    var checksum: Int64 {
        Self.checksum(id: id, owner: owner.storageKey, name: name, model: model, createdAt: createdAt, lastUsedAt: lastUsedAt,
                      idleTimeout: idleTimeout, tokens: tokenBlob)
    }
}

/// One change of the stored sessions, in the order the store made them.
enum SessionChange: Sendable, Equatable {
    /// Insert or replace the row of `record.id`.
    case put(SessionRecord)
    /// Remove the row of that id (closed or expired).
    case delete(String)
}
