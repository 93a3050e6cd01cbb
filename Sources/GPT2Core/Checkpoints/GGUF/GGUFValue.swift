// GGUFValue — one metadata value of a GGUF file (gguf_type: 0 UINT8, 1 INT8, 2 UINT16, 3 INT16,
// 4 UINT32, 5 INT32, 6 FLOAT32, 7 BOOL, 8 STRING, 9 ARRAY, 10 UINT64, 11 INT64, 12 FLOAT64), and the
// typed reads of the keys gpt2d uses. Arrays are not decoded when the file is read: an array keeps
// its element type, count and byte range (checked against the file by GGUFFile), and its strings or
// integers are decoded only when asked for (the tokenizer's 50,257 tokens, say).

import GPT2Bounds

/// A metadata value.
enum GGUFValue {
    /// Any unsigned integer type, widened.
    case unsigned(UInt64)
    /// Any signed integer type, widened.
    case signed(Int64)
    /// FLOAT32 (exactly widened) or FLOAT64.
    case float(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)

    /// "uint32", "string", "array of string" … for error messages.
    var kindName: String {
        switch self {
        case .unsigned: return "unsigned integer"
        case .signed: return "signed integer"
        case .float: return "float"
        case .bool: return "bool"
        case .string: return "string"
        case .array(let a): return "array of \(GGUFValueType.name(a.elementType))"
        }
    }

    /// The value as written in an error message (strings quoted and clipped, arrays by their size).
    var text: String {
        switch self {
        case .unsigned(let u): return "\(u)"
        case .signed(let s): return "\(s)"
        case .float(let f): return "\(f)"
        case .bool(let b): return "\(b)"
        case .string(let s): return UserText.quoted(s)
        case .array(let a): return "[\(a.count) elements]"
        }
    }

    /// The value as a non-negative Int, when it is an integer that is one.
    var count: Int? {
        switch self {
        case .unsigned(let u): return u <= UInt64(Int.max) ? Int(u) : nil
        case .signed(let s): return s >= 0 ? Int(s) : nil
        default: return nil
        }
    }
}

/// An array value: `count` elements of `elementType` in `range` of the file (bounds checked).
struct GGUFArray {
    let elementType: UInt32
    let count: Int
    let range: Range<Int>
}

/// gguf_type numbers and the fixed sizes of the scalar ones.
enum GGUFValueType {
    static let string: UInt32 = 8, array: UInt32 = 9

    /// Bytes of a scalar of `type` (nil for STRING, ARRAY and unknown types).
    static func scalarSize(_ type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 10, 11, 12: return 8
        default: return nil
        }
    }

    static func name(_ type: UInt32) -> String {
        let names = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array",
                     "uint64", "int64", "float64"]
        return type < names.count ? names[Int(type)] : "type \(type)"
    }
}

extension GGUFFile {
    /// The error for a key of the wrong kind.
    func badKey(_ key: String, _ reason: String) -> CheckpointError {
        .badGGUF(file: mapping.path, reason: "metadata '\(key)' \(reason)")
    }

    /// A string value, nil when absent; another kind is an error naming the key.
    func string(_ key: String) throws -> String? {
        guard let v = metadata[key] else { return nil }
        guard case .string(let s) = v else { throw badKey(key, "is a \(v.kindName), expected a string") }
        return s
    }

    /// A non-negative integer value (any integer type), nil when absent.
    func count(_ key: String) throws -> Int? {
        guard let v = metadata[key] else { return nil }
        guard let n = v.count else { throw badKey(key, "is a \(v.kindName) \(v.text), expected a non-negative integer") }
        return n
    }

    /// A float value (FLOAT32 or FLOAT64), nil when absent.
    func float(_ key: String) throws -> Double? {
        guard let v = metadata[key] else { return nil }
        guard case .float(let f) = v else { throw badKey(key, "is a \(v.kindName), expected a float") }
        return f
    }

    /// An array value whose elements are `type`, nil when absent.
    func array(_ key: String, of type: UInt32) throws -> GGUFArray? {
        guard let v = metadata[key] else { return nil }
        guard case .array(let a) = v, a.elementType == type else {
            throw badKey(key, "is a \(v.kindName), expected an array of \(GGUFValueType.name(type))")
        }
        return a
    }

    /// The strings of an array of strings (its lengths were checked when the file was read).
    func strings(_ a: GGUFArray) -> [String] {
        var out: [String] = []
        out.reserveCapacity(a.count)
        var at = a.range.lowerBound
        let bytes = mapping.bytes
        for _ in 0..<a.count {
            let n = Int(bytes.littleEndian(UInt64.self, at: at))
            out.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 8)..<(at + 8 + n)]), as: UTF8.self))
            at += 8 + n
        }
        return out
    }

    /// The elements of an array of 32-bit integers (INT32 / UINT32), widened.
    func integers(_ a: GGUFArray) -> [Int64] {
        let bytes = mapping.bytes
        return (0..<a.count).map { i in
            let raw = bytes.littleEndian(UInt32.self, at: a.range.lowerBound + 4 * i)
            return a.elementType == 5 ? Int64(Int32(bitPattern: raw)) : Int64(raw)
        }
    }
}
