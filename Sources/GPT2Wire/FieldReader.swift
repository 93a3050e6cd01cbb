// FieldReader — reads a body's members through codecs, with the protocol's presence rules.
//
// Rules (PROTOCOL.md §3): a field that is absent or `null` counts as absent; unknown fields are ignored
// (forward compatibility); a wrong type or an out-of-range value is `invalid_field` naming the field and
// what was expected (the codec's message); an absent required field is `missing_field`.

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

    /// The field read with `codec`, or nil when absent.
    public func optional<V>(_ key: String, _ codec: WireCodec<V>) throws(WireError) -> V? {
        guard let v = value(key) else { return nil }
        return try codec.read(v, key)
    }

    /// The field read with `codec`; `missing_field` when absent.
    public func required<V>(_ key: String, _ codec: WireCodec<V>) throws(WireError) -> V {
        guard let v = try optional(key, codec) else { throw .missingField(key) }
        return v
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
