// ContentDigest — the xxHash digests (Debian's libxxhash through the CXXHash target; GPT2Core is its
// only importer) the quantized-weight cache is keyed and checked by:
//   * a 128-bit XXH3 digest of a checkpoint's bytes (config.json and every weight file, whole): the
//     cache key's content part, so a changed checkpoint never meets an old cache file;
//   * 64-bit XXH3 checksums of the cache file's header and of each of its tensors (and, streamed,
//     of a KV snapshot's data: KVSnapshotFile).
// XXH3 is not cryptographic: it catches accidental change (another checkpoint, a torn, truncated or
// bit-flipped file) with a collision chance of about 2^-128 (2^-64 per checksum), not a forger who can
// write the cache folder — whoever can write there can write the checkpoint's copy too (the unit's
// CacheDirectory belongs to the service user alone). It runs at memory speed (rough figures in
// BENCHMARKS.md), far faster than SHA-256 on this CPU.

import CXXHash

/// A streaming XXH3 digest, 128-bit (checkpoint contents) or 64-bit (the KV snapshots' data checksum,
/// KVSnapshotFile), seed 0 (public for `checksum`: the daemon's session records use it).
public final class ContentDigest {
    /// Which XXH3 the digest computes.
    enum Width { case bits64, bits128 }

    private let state: OpaquePointer
    let width: Width

    init(_ width: Width = .bits128) {
        guard let s = XXH3_createState() else { preconditionFailure("XXH3_createState: out of memory") }
        state = s
        self.width = width
        switch width {
        case .bits64: XXH3_64bits_reset(state)
        case .bits128: XXH3_128bits_reset(state)
        }
    }

    deinit { XXH3_freeState(state) }

    /// Adds `bytes`.
    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        switch width {
        case .bits64: XXH3_64bits_update(state, base, bytes.count)
        case .bits128: XXH3_128bits_update(state, base, bytes.count)
        }
    }

    /// Adds `value` as 8 little-endian bytes (lengths and counts, so concatenations stay unambiguous).
    func update(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { update($0) }
    }

    /// Adds the UTF-8 bytes of `text`, preceded by their count.
    func update(_ text: String) {
        var copy = text
        copy.withUTF8 { utf8 in
            update(utf8.count)
            update(UnsafeRawBufferPointer(utf8))
        }
    }

    /// Adds the bytes of `file`'s whole mapping in chunks of `chunkBytes`. `discarding`: give each
    /// chunk's pages back once hashed (MappedFile.discard), so digesting a checkpoint whose matrices
    /// will not be read again does not leave it in this process's RSS.
    func update(_ file: MappedFile, discarding: Bool, chunkBytes: Int = 4 << 20) {
        update(file.size)
        var at = 0
        while at < file.size {
            let n = min(chunkBytes, file.size - at)
            update(UnsafeRawBufferPointer(rebasing: file.bytes[at..<(at + n)]))
            if discarding { file.discard(at..<(at + n)) }
            at += n
        }
    }

    /// The 128-bit digest so far as 32 lowercase hex digits (high 64 bits first).
    func hex() -> String {
        precondition(width == .bits128, "hex() is the 128-bit digest's")
        let h = XXH3_128bits_digest(state)
        return Self.hex(h.high64) + Self.hex(h.low64)
    }

    /// The 64-bit digest so far (XXH3-64 of everything added: `checksum` of their concatenation).
    func digest64() -> UInt64 {
        precondition(width == .bits64, "digest64() is the 64-bit digest's")
        return XXH3_64bits_digest(state)
    }

    /// XXH3-64 of `bytes` (seed 0).
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        XXH3_64bits(bytes.baseAddress, bytes.count)
    }

    /// `value` as 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
