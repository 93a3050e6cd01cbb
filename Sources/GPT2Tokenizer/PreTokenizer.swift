// PreTokenizer — GPT-2's split pattern as a hand-written scanner over UTF-8 bytes.
//
// The pattern (identical in OpenAI's encoder, transformers and the Rust `tokenizers` ByteLevel pre-tokenizer):
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Alternatives are tried in order at each position (leftmost-first), each is greedy. The character classes
// follow Oniguruma as used by `tokenizers`: \p{L} = general category L*, \p{N} = N*, \s = the Unicode
// White_Space property (so U+001C–U+001F, U+200B and U+FEFF are *not* whitespace, U+0085 and U+00A0 are).
// Only U+0020 can be the optional leading space. Contractions are lowercase only ("HE'S" → "HE", "'", "S").
//
// Units: all positions here are byte offsets into valid UTF-8 (Swift strings are always valid).

enum PreTokenizer {
    /// The four classes the pattern distinguishes.
    enum CharClass: UInt8 {
        case letter = 0, number = 1, space = 2, other = 3
    }

    /// Appends the byte ranges of the pre-tokens of `utf8[range]` to `pieces`, in order, covering the range.
    static func split(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b = utf8[i]
            // 's 't 're 've 'm 'll 'd
            if b == 0x27, i + 1 < end {
                let n1 = utf8[i + 1]
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {  // s t m d
                    pieces.append(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < end {
                    let n2 = utf8[i + 2]
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {  // re ve ll
                        pieces.append(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            var (cls, len) = classify(utf8, i)
            var j = i + len
            // " ?X+" — a single U+0020 joins a following run of letters, numbers or other symbols.
            if b == 0x20, j < end {
                let (next, nextLen) = classify(utf8, j)
                if next != .space { cls = next; j += nextLen }
            }
            if cls == .space {
                // \s+(?!\S) then \s+: a whitespace run that is followed by a non-space gives back its last
                // scalar (which then starts the next pre-token), unless the run is a single scalar.
                var k = j
                var lastStart = i
                while k < end {
                    let (c, l) = classify(utf8, k)
                    if c != .space { break }
                    lastStart = k
                    k += l
                }
                let stop = (k == end || lastStart == i) ? k : lastStart
                pieces.append(i..<stop)
                i = stop
            } else {
                while j < end {
                    let (c, l) = classify(utf8, j)
                    if c != cls { break }
                    j += l
                }
                pieces.append(i..<j)
                i = j
            }
        }
    }

    /// Class and UTF-8 length of the scalar starting at byte `i`.
    @inline(__always)
    static func classify(_ utf8: UnsafeBufferPointer<UInt8>, _ i: Int) -> (CharClass, Int) {
        let b0 = utf8[i]
        if b0 < 0x80 { return (asciiClass[Int(b0)], 1) }
        let value: UInt32
        let len: Int
        if b0 < 0xE0 {
            value = (UInt32(b0 & 0x1F) << 6) | UInt32(utf8[i + 1] & 0x3F); len = 2
        } else if b0 < 0xF0 {
            value = (UInt32(b0 & 0x0F) << 12) | (UInt32(utf8[i + 1] & 0x3F) << 6) | UInt32(utf8[i + 2] & 0x3F); len = 3
        } else {
            value = (UInt32(b0 & 0x07) << 18) | (UInt32(utf8[i + 1] & 0x3F) << 12)
                | (UInt32(utf8[i + 2] & 0x3F) << 6) | UInt32(utf8[i + 3] & 0x3F); len = 4
        }
        if value < 0x10000 { return (CharClass(rawValue: bmpClass[Int(value)])!, len) }
        return (charClass(ofScalarValue: value), len)
    }

    /// ASCII fast path: letters, digits, the six ASCII White_Space characters (\t \n \v \f \r and space).
    static let asciiClass: [CharClass] = (0..<128).map { charClass(ofScalarValue: UInt32($0)) }

    /// Class of every BMP scalar (one byte each, 64 KiB), computed once from the Unicode tables.
    static let bmpClass: [UInt8] = (0..<0x10000).map { charClass(ofScalarValue: UInt32($0)).rawValue }

    /// The class of one code point. Surrogate values (never in a Swift string) count as `other`.
    static func charClass(ofScalarValue value: UInt32) -> CharClass {
        guard let scalar = Unicode.Scalar(value) else { return .other }
        if isWhiteSpace(value) { return .space }
        // `tokenizers` bundles Oniguruma with Unicode 16.0 tables; scalars assigned later are unassigned (Cn,
        // hence `other`) there, whatever the newer tables of this Swift runtime say.
        if let age = scalar.properties.age, age.major > onigurumaUnicodeMajor { return .other }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Unicode major version of Oniguruma's tables in the Rust `tokenizers` crate (checked on tokenizers 0.23.3).
    static let onigurumaUnicodeMajor = 16

    /// The Unicode White_Space property (Oniguruma's \s in Unicode mode), stated explicitly so it cannot drift.
    @inline(__always)
    static func isWhiteSpace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
