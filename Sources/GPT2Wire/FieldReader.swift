// FieldReader — typed, validated reads of a request's fields, with uniform errors.
//
// Rules (PROTOCOL.md §3): a field that is absent or `null` counts as absent; unknown fields are ignored
// (forward compatibility); a wrong type or an out-of-range value is `invalid_field` naming the field and
// what was expected; an absent required field is `missing_field`. Integers must be JSON integers
// (`20`, not `20.0`); numbers accept integers (`1` for `1.0`).

import GPT2JSON

public struct FieldReader: Sendable {
    public let object: JSONObject

    public init(_ object: JSONObject) { self.object = object }

    /// The field's value, with `null` mapped to nil.
    public func value(_ key: String) -> JSON? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    public func has(_ key: String) -> Bool { value(key) != nil }

    // MARK: Strings

    public func optionalString(_ key: String, nonEmpty: Bool = false) throws(WireError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw .invalidField(key, expected: "a string", got: v) }
        if nonEmpty && s.isEmpty { throw .invalidField(key, expected: "a non-empty string", got: v) }
        return s
    }

    public func string(_ key: String, nonEmpty: Bool = false) throws(WireError) -> String {
        guard let s = try optionalString(key, nonEmpty: nonEmpty) else { throw .missingField(key) }
        return s
    }

    /// A string or an array of strings, normalized to an array (nil when absent).
    public func optionalStringOrStringArray(
        _ key: String, maxCount: Int = .max, nonEmptyElements: Bool = false
    ) throws(WireError) -> [String]? {
        guard let v = value(key) else { return nil }
        let expected = "a string or an array of at most \(maxCount) strings"
        let items: [String]
        switch v {
        case .string(let s): items = [s]
        case .array(let a):
            var out = [String]()
            for e in a {
                guard let s = e.stringValue else { throw .invalidField(key, expected: expected, got: v) }
                out.append(s)
            }
            items = out
        default: throw .invalidField(key, expected: expected, got: v)
        }
        guard items.count <= maxCount else { throw .invalidField(key, expected: expected, got: v) }
        if nonEmptyElements, items.contains(where: \.isEmpty) {
            throw .invalidField(key, expected: "non-empty strings", got: v)
        }
        return items
    }

    // MARK: Integers

    public func optionalInt(_ key: String, range: ClosedRange<Int> = Int.min...Int.max) throws(WireError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i64 = v.intValue, let i = Int(exactly: i64), range.contains(i) else {
            throw .invalidField(key, expected: Self.describe(range), got: v)
        }
        return i
    }

    public func int(_ key: String, range: ClosedRange<Int> = Int.min...Int.max) throws(WireError) -> Int {
        guard let i = try optionalInt(key, range: range) else { throw .missingField(key) }
        return i
    }

    public func int(_ key: String, default d: Int, range: ClosedRange<Int> = Int.min...Int.max) throws(WireError) -> Int {
        try optionalInt(key, range: range) ?? d
    }

    /// An optional 64-bit integer in `range` (e.g. a seed).
    public func optionalInt64(_ key: String, range: ClosedRange<Int64> = Int64.min...Int64.max) throws(WireError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue, range.contains(i) else {
            throw .invalidField(key, expected: "an integer in \(range.lowerBound)...\(range.upperBound)", got: v)
        }
        return i
    }

    /// An array of integers each in `elementRange` (nil when absent).
    public func optionalIntArray(
        _ key: String, elementRange: ClosedRange<Int> = Int.min...Int.max, nonEmpty: Bool = false
    ) throws(WireError) -> [Int]? {
        guard let v = value(key) else { return nil }
        let expected = "\(nonEmpty ? "a non-empty" : "an") array of integers in \(Self.bounds(elementRange))"
        guard let a = v.arrayValue, !(nonEmpty && a.isEmpty) else { throw .invalidField(key, expected: expected, got: v) }
        var out = [Int]()
        out.reserveCapacity(a.count)
        for e in a {
            guard let i64 = e.intValue, let i = Int(exactly: i64), elementRange.contains(i) else {
                throw .invalidField(key, expected: expected, got: e)
            }
            out.append(i)
        }
        return out
    }

    public func intArray(
        _ key: String, elementRange: ClosedRange<Int> = Int.min...Int.max, nonEmpty: Bool = false
    ) throws(WireError) -> [Int] {
        guard let a = try optionalIntArray(key, elementRange: elementRange, nonEmpty: nonEmpty) else {
            throw .missingField(key)
        }
        return a
    }

    // MARK: Numbers

    /// An optional finite number satisfying `valid` (described by `expected`, e.g. "a number in (0, 1]").
    public func optionalDouble(
        _ key: String, expected: String = "a number", where valid: (Double) -> Bool = { _ in true }
    ) throws(WireError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue, d.isFinite, valid(d) else { throw .invalidField(key, expected: expected, got: v) }
        return d
    }

    public func double(
        _ key: String, default d: Double, expected: String = "a number", where valid: (Double) -> Bool = { _ in true }
    ) throws(WireError) -> Double {
        try optionalDouble(key, expected: expected, where: valid) ?? d
    }

    public func double(
        _ key: String, expected: String = "a number", where valid: (Double) -> Bool = { _ in true }
    ) throws(WireError) -> Double {
        guard let d = try optionalDouble(key, expected: expected, where: valid) else { throw .missingField(key) }
        return d
    }

    // MARK: Booleans, ids, objects, arrays

    public func optionalBool(_ key: String) throws(WireError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw .invalidField(key, expected: "a boolean", got: v) }
        return b
    }

    public func bool(_ key: String, default d: Bool) throws(WireError) -> Bool {
        try optionalBool(key) ?? d
    }

    public func bool(_ key: String) throws(WireError) -> Bool {
        guard let b = try optionalBool(key) else { throw .missingField(key) }
        return b
    }

    public func optionalRequestID(_ key: String) throws(WireError) -> RequestID? {
        guard let v = value(key) else { return nil }
        guard let id = RequestID(json: v) else { throw .invalidField(key, expected: "a string or a number", got: v) }
        return id
    }

    public func optionalObject(_ key: String) throws(WireError) -> JSONObject? {
        guard let v = value(key) else { return nil }
        guard let o = v.objectValue else { throw .invalidField(key, expected: "an object", got: v) }
        return o
    }

    public func object(_ key: String) throws(WireError) -> JSONObject {
        guard let o = try optionalObject(key) else { throw .missingField(key) }
        return o
    }

    public func optionalArray(_ key: String) throws(WireError) -> [JSON]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else { throw .invalidField(key, expected: "an array", got: v) }
        return a
    }

    public func array(_ key: String) throws(WireError) -> [JSON] {
        guard let a = try optionalArray(key) else { throw .missingField(key) }
        return a
    }

    /// Decodes each element of the array `key` as an object with `decode` (errors name `key[i]`).
    public func objects<T>(_ key: String, _ decode: (JSONObject) throws(WireError) -> T) throws(WireError) -> [T] {
        var out = [T]()
        for (i, e) in try array(key).enumerated() {
            guard let o = e.objectValue else { throw .invalidField("\(key)[\(i)]", expected: "an object", got: e) }
            out.append(try decode(o))
        }
        return out
    }

    /// Exactly one of two alternative fields (e.g. "prompt" / "tokens") must be present.
    public func requireExactlyOne(_ a: String, _ b: String) throws(WireError) {
        switch (has(a), has(b)) {
        case (true, false), (false, true): return
        case (true, true):
            throw WireError(.invalidField, "fields '\(a)' and '\(b)' are exclusive: give exactly one", field: b)
        case (false, false):
            throw WireError(.missingField, "one of the fields '\(a)' or '\(b)' is required", field: a)
        }
    }

    // MARK: Messages

    static func bounds(_ r: ClosedRange<Int>) -> String {
        switch (r.lowerBound, r.upperBound) {
        case (Int.min, Int.max): return "any range"
        case (let lo, Int.max): return "[\(lo), inf)"
        default: return "[\(r.lowerBound), \(r.upperBound)]"
        }
    }

    static func describe(_ r: ClosedRange<Int>) -> String {
        switch (r.lowerBound, r.upperBound) {
        case (Int.min, Int.max): return "an integer"
        case (let lo, Int.max): return "an integer >= \(lo)"
        default: return "an integer in [\(r.lowerBound), \(r.upperBound)]"
        }
    }
}

// MARK: - Writing

extension JSONObject {
    /// Sets `key` only when `value` is non-nil (optional fields are omitted rather than written as null).
    public mutating func set(_ key: String, _ value: JSON?) {
        if let value { self[key] = value }
    }
}

extension Array where Element == Int {
    public var json: JSON { .array(map { .int(Int64($0)) }) }
}

extension Array where Element == String {
    public var json: JSON { .array(map { .string($0) }) }
}
