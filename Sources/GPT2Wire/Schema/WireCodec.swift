// WireCodec — how one JSON value becomes a Swift value, with its validation, and back.
//
// A codec reads a value that is present and not null (FieldReader treats null as absent); `field` names
// the value in errors: the request field, or "texts[1]" for an element. Messages follow PROTOCOL.md §3:
// "field 'top_p': expected a number in (0, 1], got 1.5". Integers must be JSON integers (`20`, not
// `20.0`); numbers accept integers (`1` for `1.0`).

import GPT2JSON
import GPT2Parameters

public struct WireCodec<Value>: Sendable {
    /// Reads and validates a present, non-null value.
    public let read: @Sendable (_ value: JSON, _ field: String) throws(WireError) -> Value
    /// The value as JSON (never fails: a non-finite double becomes null when serialized).
    public let write: @Sendable (Value) -> JSON

    public init(read: @escaping @Sendable (_ value: JSON, _ field: String) throws(WireError) -> Value,
                write: @escaping @Sendable (Value) -> JSON) {
        self.read = read
        self.write = write
    }

    /// The same reading, another way of writing (e.g. a score in float32's shortest form).
    public func writing(_ write: @escaping @Sendable (Value) -> JSON) -> WireCodec {
        WireCodec(read: read, write: write)
    }

    /// `null` reads as nil and nil writes as `null`; anything else goes through this codec.
    public var orNull: WireCodec<Value?> {
        let inner = self
        return WireCodec<Value?>(read: { v, f throws(WireError) in v.isNull ? nil : try inner.read(v, f) },
                                 write: { $0.map(inner.write) ?? .null })
    }

    /// An array whose elements this codec reads as "field[i]". `expected` is the message for a
    /// non-array; a `count` outside its range is reported with `countExpected`.
    public static func array<Element>(
        of element: WireCodec<Element>, expected: String = "an array",
        count: ClosedRange<Int> = 0...Int.max, countExpected: String? = nil
    ) -> WireCodec<[Element]> {
        WireCodec<[Element]>(read: { v, f throws(WireError) in
            guard let a = v.arrayValue else { throw .invalidField(f, expected: expected, got: v) }
            guard count.contains(a.count) else { throw .invalidField(f, expected: countExpected ?? expected, got: v) }
            var out: [Element] = []
            out.reserveCapacity(a.count)
            for (i, e) in a.enumerated() { out.append(try element.read(e, "\(f)[\(i)]")) }
            return out
        }, write: { .array($0.map(element.write)) })
    }

    /// A nested object with its own fields.
    public static func object<T: WireObject>(_ type: T.Type) -> WireCodec<T> {
        WireCodec<T>(read: { v, f throws(WireError) in
            guard let o = v.objectValue else { throw .invalidField(f, expected: "an object", got: v) }
            return try T(from: o)
        }, write: { .object($0.json()) })
    }
}

// MARK: - Scalars

extension WireCodec where Value == String {
    public static var string: WireCodec { nonEmpty(false) }
    public static var nonEmptyString: WireCodec { nonEmpty(true) }

    static func nonEmpty(_ nonEmpty: Bool) -> WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let s = v.stringValue else { throw .invalidField(f, expected: "a string", got: v) }
            if nonEmpty && s.isEmpty { throw .invalidField(f, expected: "a non-empty string", got: v) }
            return s
        }, write: { .string($0) })
    }
}

extension WireCodec where Value == Int {
    /// A JSON integer in `range`; `expected` defaults to "an integer >= 0"-style text for the range.
    public static func int(_ range: ClosedRange<Int> = Int.min...Int.max, expected: String? = nil) -> WireCodec {
        let expected = expected ?? WireMessages.integer(range)
        return WireCodec(read: { v, f throws(WireError) in
            guard let i64 = v.intValue, let i = Int(exactly: i64), range.contains(i) else {
                throw .invalidField(f, expected: expected, got: v)
            }
            return i
        }, write: { .int(Int64($0)) })
    }
}

extension WireCodec where Value == UInt64 {
    /// A seed: a JSON integer in 0 ... 2^63-1.
    public static var seed: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let i = v.intValue, i >= 0 else {
                throw .invalidField(f, expected: "an integer in 0...\(Int64.max)", got: v)
            }
            return UInt64(i)
        }, write: { .int(Int64($0)) })
    }
}

extension WireCodec where Value == Double {
    /// A number (integer or not) for which `valid` holds, described by `expected`. Written as a double.
    public static func number(_ expected: String = "a number",
                              where valid: @escaping @Sendable (Double) -> Bool = { _ in true }) -> WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let d = v.doubleValue, d.isFinite, valid(d) else { throw .invalidField(f, expected: expected, got: v) }
            return d
        }, write: { .double($0) })
    }

    /// A number in `range` (GPT2Parameters), described by the range's own phrase ("a number > 0").
    public static func number(_ range: NumberRange) -> WireCodec {
        number(range.expected) { range.contains($0) }
    }

    /// A number in the closed interval `range`, "a number in [lo, hi]".
    public static func number(in range: ClosedRange<Double>) -> WireCodec {
        number("a number in [\(WireMessages.number(range.lowerBound)), \(WireMessages.number(range.upperBound))]") {
            range.contains($0)
        }
    }
}

extension WireCodec where Value == Bool {
    public static var bool: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let b = v.boolValue else { throw .invalidField(f, expected: "a boolean", got: v) }
            return b
        }, write: { .bool($0) })
    }
}

extension WireCodec where Value == RequestID {
    public static var requestID: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let id = RequestID(json: v) else { throw .invalidField(f, expected: "a string or a number", got: v) }
            return id
        }, write: { $0.json })
    }
}

extension WireCodec where Value: RawRepresentable, Value.RawValue == String {
    /// A string that must be one of the type's raw values; `expected` lists them.
    public static func choice(expected: String) -> WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let s = v.stringValue else { throw .invalidField(f, expected: "a string", got: v) }
            guard let c = Value(rawValue: s) else { throw .invalidField(f, expected: expected, got: v) }
            return c
        }, write: { .string($0.rawValue) })
    }
}

extension WireCodec where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// `choice` with the message `one of "a", "b", "c"` in declaration order.
    public static var choice: WireCodec {
        choice(expected: "one of " + Value.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
    }
}

// MARK: - Flat lists (errors name the field, not the element)

extension WireCodec where Value == [Int] {
    /// An array of integers each in `elementRange`, e.g. token ids.
    public static func intArray(_ elementRange: ClosedRange<Int> = Int.min...Int.max, nonEmpty: Bool = false) -> WireCodec {
        let expected = "\(nonEmpty ? "a non-empty" : "an") array of integers in \(WireMessages.bounds(elementRange))"
        return WireCodec(read: { v, f throws(WireError) in
            guard let a = v.arrayValue, !(nonEmpty && a.isEmpty) else { throw .invalidField(f, expected: expected, got: v) }
            var out = [Int]()
            out.reserveCapacity(a.count)
            for e in a {
                guard let i64 = e.intValue, let i = Int(exactly: i64), elementRange.contains(i) else {
                    throw .invalidField(f, expected: expected, got: e)
                }
                out.append(i)
            }
            return out
        }, write: { $0.json })
    }

    /// Token ids: integers in 0 ... Int32.max.
    public static func tokenIDs(nonEmpty: Bool = false) -> WireCodec { intArray(0...Int(Int32.max), nonEmpty: nonEmpty) }
}

extension WireCodec where Value == [String] {
    /// An array of strings; a non-array and a non-string element are both "expected \(expected)".
    public static func strings(expected: String = "an array of strings") -> WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let a = v.arrayValue else { throw .invalidField(f, expected: expected, got: v) }
            var out: [String] = []
            for e in a {
                guard let s = e.stringValue else { throw .invalidField(f, expected: expected, got: e) }
                out.append(s)
            }
            return out
        }, write: { $0.json })
    }

    /// A string or an array of at most `maxCount` strings, normalized to an array. Errors show the
    /// whole value.
    public static func stringOrStrings(maxCount: Int = .max, nonEmptyElements: Bool = false) -> WireCodec {
        let expected = "a string or an array of at most \(maxCount) strings"
        return WireCodec(read: { v, f throws(WireError) in
            var items: [String] = []
            switch v {
            case .string(let s): items = [s]
            case .array(let a):
                for e in a {
                    guard let s = e.stringValue else { throw .invalidField(f, expected: expected, got: v) }
                    items.append(s)
                }
            default: throw .invalidField(f, expected: expected, got: v)
            }
            guard items.count <= maxCount else { throw .invalidField(f, expected: expected, got: v) }
            if nonEmptyElements, items.contains(where: \.isEmpty) {
                throw .invalidField(f, expected: "non-empty strings", got: v)
            }
            return items
        }, write: { $0.json })
    }
}

// MARK: - Messages

enum WireMessages {
    /// "an integer", "an integer >= 0", "an integer in [1, 16]".
    static func integer(_ r: ClosedRange<Int>) -> String {
        switch (r.lowerBound, r.upperBound) {
        case (Int.min, Int.max): return "an integer"
        case (let lo, Int.max): return "an integer >= \(lo)"
        default: return "an integer in [\(r.lowerBound), \(r.upperBound)]"
        }
    }

    /// "any range", "[0, inf)", "[0, 2147483647]".
    static func bounds(_ r: ClosedRange<Int>) -> String {
        switch (r.lowerBound, r.upperBound) {
        case (Int.min, Int.max): return "any range"
        case (let lo, Int.max): return "[\(lo), inf)"
        default: return "[\(r.lowerBound), \(r.upperBound)]"
        }
    }

    /// 2.0 → "2", 0.5 → "0.5" (interval ends in messages).
    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
