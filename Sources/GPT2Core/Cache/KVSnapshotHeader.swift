// KVSnapshotHeader — the fixed 96-byte header of a KV snapshot file (KVSnapshotFile), little-endian:
//
//   offset size  field
//        0    8  magic "gpt2d-kv"
//        8    4  format version (KVSnapshotHeader.formatVersion)
//       12    4  element type: 0 float32, 1 float16, 2 bfloat16 (the pool's KVDType)
//       16    4  n_layer            20  4  n_embd            24  4  positions (P ≥ 1)
//       28    4  zero
//       32   32  model fingerprint: 32 lowercase hex digits (KVSnapshotFingerprint)
//       64    8  XXH3-64 of the P token ids the positions hold (Int32, little-endian)
//       72    8  data bytes: n_layer · 2 · P · n_embd · element size
//       80    8  XXH3-64 of the data
//       88    8  XXH3-64 of bytes 0..<88
//
// The data follows at offset 96: for each layer, its keys then its values, P rows of n_embd elements.
// Parsing checks everything that needs no model: magic, version, the header checksum, the element
// type, non-zero shapes and that the data size is what the shapes make (a fuzz target reads it).

public struct KVSnapshotHeader: Equatable, Sendable {
    /// The layout version: bump when the header or the data order change.
    public static let formatVersion: UInt32 = 1
    /// Bytes of the header; the data starts here.
    public static let byteCount = 96
    static let magic = Array("gpt2d-kv".utf8)

    public var dtype: KVDType
    public var nLayer: Int
    public var nEmbd: Int
    public var positions: Int
    /// 32 hex digits: what the keys and values were computed by.
    public var fingerprint: String
    /// XXH3-64 of the token history prefix the positions hold.
    public var tokensHash: UInt64
    public var dataBytes: Int
    public var dataHash: UInt64

    /// The data bytes `positions` positions of these shapes take.
    public static func dataBytes(nLayer: Int, nEmbd: Int, positions: Int, dtype: KVDType) -> Int {
        nLayer * 2 * positions * nEmbd * dtype.bytes
    }

    /// XXH3-64 of `tokens` as little-endian Int32s (what `tokensHash` holds).
    public static func tokensHash(_ tokens: ArraySlice<Int32>) -> UInt64 {
        let le = tokens.map { $0.littleEndian }
        return le.withUnsafeBytes { ContentDigest.checksum($0) }
    }

    static let dtypeCodes: [KVDType] = [.float32, .float16, .bfloat16]

    /// The 96 header bytes, its own checksum included.
    public func encoded() -> [UInt8] {
        var out = Self.magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        put(Self.formatVersion)
        put(UInt32(Self.dtypeCodes.firstIndex(of: dtype)!))
        put(UInt32(nLayer)); put(UInt32(nEmbd)); put(UInt32(positions)); put(UInt32(0))
        let digits = Array(fingerprint.utf8)
        precondition(digits.count == 32, "a fingerprint is 32 hex digits")
        out += digits
        put(tokensHash); put(UInt64(dataBytes)); put(dataHash)
        put(out.withUnsafeBytes { ContentDigest.checksum($0) })
        return out
    }

    /// Reads a header from the first `byteCount` bytes of `bytes`; any inconsistency is a rejection.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(KVSnapshotRejection) {
        guard bytes.count >= Self.byteCount else { throw KVSnapshotRejection("file shorter than its header (\(bytes.count) bytes)") }
        guard Array(bytes[0..<8]) == Self.magic else { throw KVSnapshotRejection("not a KV snapshot (magic)") }
        guard bytes.u32(at: 8) == Self.formatVersion else { throw KVSnapshotRejection("format version \(bytes.u32(at: 8)), expected \(Self.formatVersion)") }
        let sum = ContentDigest.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<88]))
        guard bytes.u64(at: 88) == sum else { throw KVSnapshotRejection("header checksum mismatch") }
        guard Int(bytes.u32(at: 12)) < Self.dtypeCodes.count else { throw KVSnapshotRejection("unknown element type \(bytes.u32(at: 12))") }
        dtype = Self.dtypeCodes[Int(bytes.u32(at: 12))]
        nLayer = Int(bytes.u32(at: 16)); nEmbd = Int(bytes.u32(at: 20)); positions = Int(bytes.u32(at: 24))
        // Bounds far above any GPT-2 (so the data size below cannot overflow).
        guard (1...1024).contains(nLayer), (1...65536).contains(nEmbd), (1...(1 << 20)).contains(positions), bytes.u32(at: 28) == 0 else {
            throw KVSnapshotRejection("bad shapes (n_layer \(nLayer), n_embd \(nEmbd), positions \(positions))")
        }
        let digits = Array(bytes[32..<64])
        guard digits.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw KVSnapshotRejection("fingerprint is not 32 hex digits")
        }
        fingerprint = String(decoding: digits, as: UTF8.self)
        tokensHash = bytes.u64(at: 64)
        dataHash = bytes.u64(at: 80)
        let expected = Self.dataBytes(nLayer: nLayer, nEmbd: nEmbd, positions: positions, dtype: dtype)
        guard bytes.u64(at: 72) == UInt64(expected) else { throw KVSnapshotRejection("data size \(bytes.u64(at: 72)) does not match the shapes (\(expected))") }
        dataBytes = expected
    }

    public init(dtype: KVDType, nLayer: Int, nEmbd: Int, positions: Int, fingerprint: String, tokensHash: UInt64, dataHash: UInt64) {
        self.dtype = dtype; self.nLayer = nLayer; self.nEmbd = nEmbd; self.positions = positions
        self.fingerprint = fingerprint; self.tokensHash = tokensHash; self.dataHash = dataHash
        dataBytes = Self.dataBytes(nLayer: nLayer, nEmbd: nEmbd, positions: positions, dtype: dtype)
    }
}

/// Why a KV snapshot was not used (the session's cache is recomputed from its history instead).
public struct KVSnapshotRejection: Error, CustomStringConvertible, Equatable {
    public let reason: String
    /// True when the snapshot is fine but the KV budget had no room for it.
    public let noRoom: Bool
    public init(_ reason: String, noRoom: Bool = false) { self.reason = reason; self.noRoom = noRoom }
    public var description: String { reason }
}
