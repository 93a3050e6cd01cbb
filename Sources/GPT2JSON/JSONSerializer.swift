// JSONSerializer — JSON → one line of text, written by json-c.
//
// The value is rebuilt as a json-c object tree and printed with JSON_C_TO_STRING_PLAIN (no spaces or
// newlines) | JSON_C_TO_STRING_NOSLASHESCAPE (`/` stays `/`). json-c keeps non-ASCII as raw UTF-8 and
// escapes `"`, `\`, and control characters (\n \r \t \b \f, others as \u00XX).
//
// Doubles: json-c's default is %.17g (0.1 → 0.10000000000000001) and NaN/Infinity as bare words. So every
// double goes in through json_object_new_double_s with Swift's shortest round-trip text (0.1 → "0.1",
// 1e20 → "1e+20"), and a non-finite double becomes `null` — it never reaches the output.
// Object keys are C strings in json-c: a key containing U+0000 is cut at the NUL.

import CJSONC

extension JSON {
    /// The value as one line of JSON text (no trailing newline).
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// The value as one line of UTF-8 JSON (no trailing newline).
    public func serializedBytes() -> [UInt8] {
        let obj = makeJSONC()
        defer { json_object_put(obj) }
        var length = 0
        let flags = Int32(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
        guard let p = json_object_to_json_string_length(obj, flags, &length) else { return Array("null".utf8) }
        return Array(UnsafeRawBufferPointer(start: p, count: length))
    }

    /// A new json-c object (owned by the caller); nil is json-c's null.
    private func makeJSONC() -> OpaquePointer? {
        switch self {
        case .null:
            return nil
        case .bool(let b):
            return json_object_new_boolean(b ? 1 : 0)
        case .int(let i):
            return json_object_new_int64(i)
        case .double(let d):
            guard d.isFinite else { return nil }
            return json_object_new_double_s(d, Self.shortest(d))
        case .string(let s):
            var s = s
            return s.withUTF8 { u in
                guard let base = u.baseAddress, u.count > 0 else { return json_object_new_string("") }
                return base.withMemoryRebound(to: CChar.self, capacity: u.count) { c in
                    json_object_new_string_len(c, Int32(clamping: u.count))
                }
            }
        case .array(let items):
            let a = json_object_new_array_ext(Int32(clamping: items.count))
            for item in items { json_object_array_add(a, item.makeJSONC()) }
            return a
        case .object(let members):
            let o = json_object_new_object()
            for (k, v) in members { json_object_object_add(o, k, v.makeJSONC()) }
            return o
        }
    }

    /// Swift's shortest round-trip form; always valid JSON for finite values ("1.0", "1e-05", "5e-324").
    static func shortest(_ d: Double) -> String { d.description }
}
