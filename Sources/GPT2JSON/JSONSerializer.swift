// JSONSerializer — JSON → one line of UTF-8 text, written straight into a byte array.
//
// Reading goes through json-c (JSONParser.swift); writing does not: building a json-c tree for every
// reply held a second copy of the whole value (a json-c object per array element) and json-c's print
// buffer a third, copied out once more. Here the value is printed in one pass into one growing
// buffer, which is all a reply costs besides the value itself (a 1 MiB `tokenize`, 5.5 MB of reply:
// the debug daemon's peak RSS +158 MB before, +56 MB after).
//
// The text is what json-c prints with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, byte for
// byte (checked in JSONSerializeTests): no spaces or newlines; `/` stays `/`; non-ASCII stays raw UTF-8;
// `"` and `\` are escaped, and the control characters U+0000…U+001F as \b \t \n \f \r or \u00xx
// (lower-case hex). Doubles use Swift's shortest round-trip text (0.1 → "0.1", 1e20 → "1e+20"; json-c's
// own %.17g would print 0.10000000000000001), and a non-finite double becomes `null`. Object keys are
// escaped like strings (json-c's C-string keys cut a key at U+0000; here it is written as \u0000).

extension JSON {
    /// The value as one line of JSON text (no trailing newline).
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// The value as one line of UTF-8 JSON (no trailing newline).
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    /// Appends the value as one line of UTF-8 JSON (no newline) to `out`.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null:
            out.append(contentsOf: Self.nullText)
        case .bool(let b):
            out.append(contentsOf: b ? Self.trueText : Self.falseText)
        case .int(let i):
            Self.writeInteger(i, into: &out)
        case .double(let d):
            if d.isFinite { out.append(contentsOf: Self.shortest(d).utf8) } else { out.append(contentsOf: Self.nullText) }
        case .string(let s):
            Self.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (n, member) in members.entries.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Swift's shortest round-trip form; always valid JSON for finite values ("1.0", "1e-05", "5e-324").
    static func shortest(_ d: Double) -> String { d.description }

    private static let nullText = Array("null".utf8), trueText = Array("true".utf8), falseText = Array("false".utf8)

    /// Decimal digits, with a leading `-` for negatives (Int64.min included).
    private static func writeInteger(_ i: Int64, into out: inout [UInt8]) {
        if i < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = i.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 20 digits, last first, one byte each
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for n in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[n]) }
        }
    }

    /// `"…"` with json-c's escapes; runs of bytes that need none are appended whole.
    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            for (n, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<n]))
                runStart = n + 1
                out.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    out.append(hexDigits[Int(b >> 4)])
                    out.append(hexDigits[Int(b & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
