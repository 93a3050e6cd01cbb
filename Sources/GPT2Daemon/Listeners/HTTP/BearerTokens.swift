// BearerTokens — who a request on the HTTP listener's loopback TCP socket is: the principal its
// `Authorization: Bearer <token>` names in the operator's token file (`http_tokens_file`). A Unix
// socket needs none of this (SO_PEERCRED says who the peer is); TCP carries no identity, so every
// request there must present a token, or it gets 401.
//
// The file: one token per line, `PRINCIPAL TOKEN`, blank lines and `#` comments ignored.
//   PRINCIPAL  1–64 of letters, digits, `.`, `_`, `-`, `@` — the owner of that token's sessions and
//              prompt cache, as a Unix user owns theirs (Principal.token); several tokens may name one
//              principal (rotation).
//   TOKEN      32–512 printable ASCII characters without spaces (e.g. `openssl rand -hex 32`); each
//              token appears once.
// The file must be a regular file of at most 1 MiB that neither group nor others may write and others
// may not read (chmod 600 or 640), as ssh treats private keys. It is read at start and again whenever
// it changes (its inode, size or mtime, looked at no more than once a second), so tokens rotate without
// a restart; a file that stops being valid fails closed (no token is accepted) with one error line.
// Tokens are compared in constant time (every byte of every entry, whatever matches); a token is
// never logged, and error messages name line numbers, not contents.

import Foundation
import GPT2Bounds
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct BearerTokenFile: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        var principal: String
        var token: [UInt8]
    }
    var entries: [Entry]

    /// Why a token file is refused (names a line, never a token).
    struct Invalid: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static let maxBytes = 1 << 20
    static let tokenBytes = 32...512
    static let principalBytes = 1...64

    /// Parses the file's text.
    static func parse(_ text: String) throws(Invalid) -> BearerTokenFile {
        var entries: [Entry] = []
        var seen = Set<[UInt8]>()
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2 else {
                throw Invalid(message: "line \(i + 1): expected PRINCIPAL TOKEN (two fields), found \(fields.count)")
            }
            let principal = String(fields[0]), token = Array(fields[1].utf8)
            guard isPrincipal(principal) else {
                throw Invalid(message: "line \(i + 1): a principal is 1 to 64 letters, digits, '.', '_', '-' or '@'")
            }
            guard tokenBytes.contains(token.count), token.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw Invalid(message: "line \(i + 1): a token is 32 to 512 printable ASCII characters without spaces")
            }
            guard seen.insert(token).inserted else {
                throw Invalid(message: "line \(i + 1): this token already appears on an earlier line")
            }
            entries.append(Entry(principal: principal, token: token))
        }
        return BearerTokenFile(entries: entries)
    }

    /// Reads and checks the file at `path` (regular file, size cap, permissions), then parses it.
    static func read(_ path: String) throws(Invalid) -> BearerTokenFile {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Invalid(message: "\(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & 0o022 == 0, st.st_mode & 0o004 == 0 else {
            throw Invalid(message: "\(path): must not be writable by group or others nor readable by others (chmod 600 or 640)")
        }
        let bytes: [UInt8]
        do throws(RegularFileError) { bytes = try RegularFile.read(path, limit: maxBytes) } catch {
            throw Invalid(message: "\(path): \(error.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Invalid(message: "\(path): not UTF-8 text") }
        return try parse(text)
    }

    /// The principal whose token is `presented`, comparing against every entry in full whatever
    /// matches (the time depends on the entries' and the presented token's lengths only).
    func principal(presenting presented: [UInt8]) -> String? {
        var found: String? = nil
        for e in entries where Self.constantTimeEquals(e.token, presented) { found = e.principal }
        return found
    }

    /// Equality of two byte strings in time that depends on their lengths, not on where they differ.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0, y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }

    /// A valid principal name: 1–64 of letters, digits, `.`, `_`, `-`, `@` (also `admin_tokens`' rule).
    static func isPrincipal(_ name: String) -> Bool {
        principalBytes.contains(name.utf8.count) && name.utf8.allSatisfy(isPrincipalByte)
    }

    private static func isPrincipalByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D || c == 0x40
    }
}

/// The token file as the listener uses it: re-read when it changes, failing closed.
final class BearerTokens: @unchecked Sendable {
    private struct Identity: Equatable {
        var dev: UInt64, ino: UInt64, size: Int64, mtimeSec: Int, mtimeNsec: Int
    }
    private struct State {
        var file = BearerTokenFile(entries: [])
        var identity: Identity?
        var lastCheck: UInt64 = 0
        var valid = false
    }
    let path: String
    private let logger: Logger
    private let state = Locked(State())
    /// Monotonic nanoseconds (tests move it).
    private let now: @Sendable () -> UInt64

    /// Reads the file now: a file that is not valid at start is an error (the daemon does not start).
    init(path: String, logger: Logger, now: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) throws(BearerTokenFile.Invalid) {
        self.path = path
        self.logger = logger
        self.now = now
        let file = try BearerTokenFile.read(path)
        let identity = Self.identity(path)
        let t = now()
        state.withLock { $0 = State(file: file, identity: identity, lastCheck: t, valid: true) }
        if file.entries.isEmpty { logger.warning("the HTTP token file holds no token: every TCP request gets 401", metadata: ["path": "\(path)"]) }
    }

    /// The principal of an `Authorization` header value (`Bearer <token>`, the scheme in any case), or nil.
    func principal(authorization: String?) -> String? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let presented = Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)
        return current().principal(presenting: presented)
    }

    /// The entries in effect, after re-reading the file if it changed (at most once a second).
    private func current() -> BearerTokenFile {
        let t = now()
        let due = state.withLock { s -> Bool in
            guard t &- s.lastCheck >= 1_000_000_000 else { return false }
            s.lastCheck = t
            return true
        }
        guard due else { return state.withLock { $0.valid ? $0.file : BearerTokenFile(entries: []) } }
        let identity = Self.identity(path)
        let changed = state.withLock { $0.identity != identity }
        if changed {
            do {
                let file = try BearerTokenFile.read(path)
                state.withLock { $0.file = file; $0.identity = identity; $0.valid = true }
                logger.info("HTTP token file re-read", metadata: ["path": "\(path)", "tokens": "\(file.entries.count)"])
            } catch {
                state.withLock { $0.identity = identity; $0.valid = false }
                logger.error("HTTP token file is no longer valid; no token is accepted until it is", metadata: ["error": "\(error.message)"])
            }
        }
        return state.withLock { $0.valid ? $0.file : BearerTokenFile(entries: []) }
    }

    private static func identity(_ path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), size: Int64(st.st_size),
                        mtimeSec: st.st_mtim.tv_sec, mtimeNsec: st.st_mtim.tv_nsec)
    }
}
