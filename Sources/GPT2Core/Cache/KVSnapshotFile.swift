// KVSnapshotFile — a sequence's KV cache on disk (the daemon saves sessions' caches with it, so a
// restored session does not recompute its history), and back into blocks of a pool.
//
// File: KVSnapshotHeader (96 bytes), then for each layer l its keys then its values, positions
// 0..<P, n_embd elements of the pool's dtype each — exactly the bytes the blocks hold, so a restored
// cache gives the same logits and tokens as the cache that was saved.
//
// Writing reads the cache's blocks: the caller guarantees nobody writes them meanwhile (the daemon
// writes after its compute thread has stopped). The file goes to a temporary name in the same folder
// (mode 0600) and is renamed over the final name: a reader meets the old file or the new one, never
// half of one. It is not fsync'd: a power cut may leave a short or zeroed file, which the checks
// reject — the snapshot is only a cache.
//
// Reading checks, before the cache is handed out: the header (KVSnapshotHeader), the fingerprint,
// the pool's dtype and shapes, that the positions hold a prefix of the history given (length and
// XXH3-64), the file's exact length, and the data's XXH3-64 — read straight into the new blocks
// (no second buffer). Any failure throws a KVSnapshotRejection; nothing half-read escapes.
import Foundation

public enum KVSnapshotFile {
    /// Bytes a snapshot of `positions` positions of `pool` takes.
    public static func fileBytes(positions: Int, pool: KVBlockPool) -> Int {
        KVSnapshotHeader.byteCount + KVSnapshotHeader.dataBytes(nLayer: pool.nLayer, nEmbd: pool.nEmbd, positions: positions, dtype: pool.dtype)
    }

    /// Writes positions 0..<tokens.count of `cache` (`tokens`: the history they hold) to `path`,
    /// atomically. Returns the file's size in bytes.
    @discardableResult
    public static func write(_ cache: KVCache, tokens: ArraySlice<Int32>, fingerprint: String, to path: String) throws -> Int {
        let p = tokens.count
        precondition(p > 0 && p <= cache.count, "a snapshot holds 1...\(cache.count) positions, not \(p)")
        let pool = cache.pool
        let hash = ContentDigest(.bits64)
        forEachRun(cache, positions: p) { hash.update(UnsafeRawBufferPointer(start: $0, count: $1)) }
        let header = KVSnapshotHeader(dtype: pool.dtype, nLayer: pool.nLayer, nEmbd: pool.nEmbd, positions: p,
                                      fingerprint: fingerprint, tokensHash: KVSnapshotHeader.tokensHash(tokens), dataHash: hash.digest64())

        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw KVSnapshotWriteError("cannot create a file beside \(path): \(String(cString: strerror(errno)))") }
        let tmp = String(cString: template)
        var failure: String?
        header.encoded().withUnsafeBytes { if !writeAll(fd, $0.baseAddress!, $0.count) { failure = String(cString: strerror(errno)) } }
        if failure == nil {
            forEachRun(cache, positions: p) { start, count in
                if failure == nil, !writeAll(fd, start, count) { failure = String(cString: strerror(errno)) }
            }
        }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(tmp, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(tmp)
            throw KVSnapshotWriteError("cannot write \(path): \(failure)")
        }
        return KVSnapshotHeader.byteCount + header.dataBytes
    }

    /// The header of the snapshot at `path` (to decide whether reading it is worth it), or a rejection.
    public static func header(path: String) throws(KVSnapshotRejection) -> KVSnapshotHeader {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { throw KVSnapshotRejection("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try readHeader(fd)
    }

    /// A new cache in `pool` holding the snapshot at `path`, when it was made by `fingerprint` and
    /// holds a prefix of `history`; otherwise a rejection (a full KV budget is one too).
    public static func read(path: String, into pool: KVBlockPool, fingerprint: String, history: [Int32]) throws(KVSnapshotRejection) -> KVCache {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { throw KVSnapshotRejection("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw KVSnapshotRejection("not a regular file") }
        let h = try readHeader(fd)
        guard h.fingerprint == fingerprint else {
            throw KVSnapshotRejection("made by another model or build (fingerprint \(h.fingerprint), expected \(fingerprint))")
        }
        guard h.dtype == pool.dtype, h.nLayer == pool.nLayer, h.nEmbd == pool.nEmbd else {
            throw KVSnapshotRejection("holds \(h.dtype) \(h.nLayer)×\(h.nEmbd), the pool stores \(pool.dtype) \(pool.nLayer)×\(pool.nEmbd)")
        }
        guard h.positions <= history.count, KVSnapshotHeader.tokensHash(history[0..<h.positions]) == h.tokensHash else {
            throw KVSnapshotRejection("holds \(h.positions) positions that are not a prefix of the session's \(history.count)-token history")
        }
        guard Int(st.st_size) == KVSnapshotHeader.byteCount + h.dataBytes else {
            throw KVSnapshotRejection("file is \(st.st_size) bytes, its header says \(KVSnapshotHeader.byteCount + h.dataBytes)")
        }
        let cache = KVCache(pool: pool)
        guard cache.reserve(positions: h.positions) else { throw KVSnapshotRejection("the KV budget has no room for \(h.positions) positions", noRoom: true) }
        let hash = ContentDigest(.bits64)
        var offset = off_t(KVSnapshotHeader.byteCount), failure: String?
        forEachRun(cache, positions: h.positions) { start, count in
            guard failure == nil else { return }
            let mutable = UnsafeMutableRawPointer(mutating: start)
            if let error = readAll(fd, mutable, count, at: offset) { failure = error; return }
            hash.update(UnsafeRawBufferPointer(start: start, count: count))
            offset += off_t(count)
        }
        if let failure { throw KVSnapshotRejection("read failed: \(failure)") }
        guard hash.digest64() == h.dataHash else { throw KVSnapshotRejection("data checksum mismatch") }
        cache.count = h.positions
        return cache
    }

    private static func readHeader(_ fd: Int32) throws(KVSnapshotRejection) -> KVSnapshotHeader {
        var bytes = [UInt8](repeating: 0, count: KVSnapshotHeader.byteCount)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard got >= 0 else { throw KVSnapshotRejection("read failed: \(String(cString: strerror(errno)))") }
        let parsed = bytes.withUnsafeBytes { raw in
            Result { () throws(KVSnapshotRejection) in try KVSnapshotHeader(parsing: UnsafeRawBufferPointer(rebasing: raw[0..<got])) }
        }
        return try parsed.get()
    }

    /// Calls `body` with each contiguous run of the data in file order: for each layer, keys then
    /// values, one run per block (its rows below `positions`).
    private static func forEachRun(_ cache: KVCache, positions: Int, _ body: (UnsafeRawPointer, Int) -> Void) {
        let pool = cache.pool, b = pool.blockTokens
        let rowBytes = pool.nEmbd * pool.dtype.bytes
        for slab in 0..<(pool.nLayer * 2) {  // (layer, keys | values), in that order
            var p = 0
            while p < positions {
                let rows = min(b, positions - p)
                body(UnsafeRawPointer(cache.blocks[p / b].data + slab * b * rowBytes), rows * rowBytes)
                p += rows
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ start: UnsafeRawPointer, _ count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = Foundation.write(fd, start + done, count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { if n == 0 { errno = EIO }; return false }
            done += n
        }
        return true
    }

    /// nil when `count` bytes were read at `offset`; the reason otherwise (a short file included).
    private static func readAll(_ fd: Int32, _ start: UnsafeMutableRawPointer, _ count: Int, at offset: off_t) -> String? {
        var done = 0
        while done < count {
            let n = pread(fd, start + done, count - done, offset + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return String(cString: strerror(errno)) }
            if n == 0 { return "file ends early" }
            done += n
        }
        return nil
    }
}

/// A snapshot that could not be written (the folder is not writable, the disk is full).
public struct KVSnapshotWriteError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

