// GPT2JSON — a Swift JSON value over json-c. This module is the only importer of CJSONC.
//
// `JSON` is a plain value: parsing (JSONParser.swift) turns json-c objects into it and frees them at
// once; serialization (JSONSerializer.swift) prints it in one pass into a byte array, in json-c's
// exact output format, without a json-c tree. Nothing outside this module sees a json-c pointer.

/// A JSON value.
///
/// Numbers keep the integer/double distinction of the source text: `1` is `.int(1)`, `1.0` and `1e3` are
/// `.double`. Equality is structural and exact (`.int(1) != .double(1)`); object equality ignores key order.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

// MARK: - Accessors

extension JSON {
    /// The member `key` of an object; nil for a missing key or a non-object.
    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }

    /// Only `.int`: a double such as `2.0` is not an integer here (the wire is strict about ints).
    public var intValue: Int64? { if case .int(let i) = self { return i } else { return nil } }

    /// `.double`, or an `.int` converted to Double.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }

    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }

    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// A short name of the value's type, for error messages ("string", "integer", "number", …).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// A Float carried as the Double whose shortest representation equals the Float's shortest one,
    /// so `JSON.float(0.1)` serializes as `0.1`, not `0.10000000149011612`. Non-finite → `.double(nan/inf)`
    /// (which serializes as `null`).
    public static func float(_ f: Float) -> JSON {
        guard f.isFinite else { return .double(Double(f)) }
        return .double(Double(f.description) ?? Double(f))
    }
}

// MARK: - Literals

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}
