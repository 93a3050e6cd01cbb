// ByteEncoder — GPT-2's reversible map between the 256 byte values and 256 printable Unicode scalars.
//
// Byte-level BPE works on bytes, but its vocabulary is stored as text. Bytes that are already printable
// (0x21–0x7E, 0xA1–0xAC, 0xAE–0xFF) stand for themselves; the other 68 bytes (0x00–0x20, 0x7F–0xA0, 0xAD)
// are given U+0100, U+0101, … in ascending byte order, so space (0x20) → "Ġ" U+0120 and "\n" → "Ċ" U+010A.

/// The 256-entry byte ↔ scalar bijection used by vocab.json token strings.
public enum ByteEncoder {
    /// `scalar[b]` is the scalar that stands for byte `b` in token strings.
    public static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 0x100
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte`, indexed by scalar value (all mapped scalars are < U+0144).
    static let byteForScalarValue: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarForByte.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// The byte a token-string scalar stands for, or nil if the scalar is not one of the 256.
    @inline(__always)
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < byteForScalarValue.count else { return nil }
        let b = byteForScalarValue[v]
        return b < 0 ? nil : UInt8(b)
    }

    /// Token string (e.g. "Ġname") → its bytes (" name"); nil if any scalar is outside the map.
    public static func bytes(ofTokenString token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byte(for: s) else { return nil }
            out.append(b)
        }
        return out
    }

    /// Bytes → token string, one scalar per byte.
    public static func tokenString<S: Sequence>(ofBytes bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }
}
