// JSONParser — bytes → JSON through json-c's tokener, with the checks json-c 0.16 doesn't make.
//
// json-c (strict mode + VALIDATE_UTF8) still accepts, in 0.16: NaN / Infinity / -Infinity and 1e999
// (→ inf), raw control characters inside strings, overlong UTF-8 (C0 AF), UTF-8-encoded surrogates
// (ED A0 80) and code points above U+10FFFF, numbers like `1.` and `-01`; and it silently clamps integer
// literals outside Int64/UInt64. So a lexical pre-pass (`LexicalCheck`) rejects those first, with the byte
// offset; json-c then does the grammar, the nesting limit and the escapes; `convert` copies its objects
// into `JSON` and frees them.
//
// Documented outcomes: a lone surrogate escape (`"\ud800"`) is accepted and becomes U+FFFD (json-c's
// choice); a duplicate object key keeps the last value, or is an error (`.duplicateKey`) when the caller
// asks (the lexical pass compares each object's keys, decoded, before json-c merges them); an integer
// literal outside Int64 is an error (`.integerOutOfRange`), never a silent double or clamp.

import CJSONC

extension JSON {
    /// Parses exactly one JSON value (surrounding whitespace allowed) from UTF-8 bytes.
    ///
    /// - Parameters:
    ///   - maxDepth: the deepest nesting of arrays/objects accepted (`[[1]]` has depth 2; a scalar 0).
    ///   - rejectDuplicateKeys: a key twice in one object is `.duplicateKey` (default: the last value wins).
    /// - Throws: `JSONError` with the reason and byte offset.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64,
                             rejectDuplicateKeys: Bool = false) throws(JSONError) -> JSON {
        var buffer = [UInt8]()
        buffer.reserveCapacity(bytes.count + 1)
        buffer.append(contentsOf: bytes)
        return try parseTerminated(&buffer, maxDepth: maxDepth, rejectDuplicateKeys: rejectDuplicateKeys)
    }

    /// Parses exactly one JSON value from a raw buffer (see `parse(_:maxDepth:rejectDuplicateKeys:)`).
    public static func parse(_ buffer: UnsafeRawBufferPointer, maxDepth: Int = 64,
                             rejectDuplicateKeys: Bool = false) throws(JSONError) -> JSON {
        var copy = [UInt8](buffer)
        return try parseTerminated(&copy, maxDepth: maxDepth, rejectDuplicateKeys: rejectDuplicateKeys)
    }

    /// Parses exactly one JSON value from a string's UTF-8.
    public static func parse(_ text: String, maxDepth: Int = 64, rejectDuplicateKeys: Bool = false) throws(JSONError) -> JSON {
        try parse(Array(text.utf8), maxDepth: maxDepth, rejectDuplicateKeys: rejectDuplicateKeys)
    }

    /// `buffer` holds the input; a NUL is appended so json-c finishes a trailing number (`123`) instead of
    /// asking for more input. The lexical check guarantees no NUL occurs earlier.
    private static func parseTerminated(_ buffer: inout [UInt8], maxDepth: Int, rejectDuplicateKeys: Bool) throws(JSONError) -> JSON {
        let n = buffer.count
        if let bad = UTF8Check.firstInvalidOffset(buffer) {
            throw JSONError(.invalidUTF8, offset: bad, "invalid UTF-8")
        }
        try LexicalCheck.run(buffer, maxDepth: maxDepth, rejectDuplicateKeys: rejectDuplicateKeys)
        guard n < Int(Int32.max) - 1 else { throw JSONError(.syntax, offset: 0, "input too large") }
        buffer.append(0)

        // The lexical check enforces maxDepth on containers. json-c counts values, not containers (an
        // empty `[]` at the limit passes, `[1]` does not), so its own limit is set above ours.
        let depth = Int32(clamping: max(maxDepth, 0) + 2)
        guard let tok = json_tokener_new_ex(depth) else {
            throw JSONError(.syntax, offset: 0, "json_tokener_new_ex failed")
        }
        defer { json_tokener_free(tok) }
        json_tokener_set_flags(tok, Int32(JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8))

        let obj: OpaquePointer? = buffer.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { c in json_tokener_parse_ex(tok, c.baseAddress, Int32(n + 1)) }
        }
        defer { json_object_put(obj) }
        let err = json_tokener_get_error(tok)
        let end = Int(json_tokener_get_parse_end(tok))
        guard err == json_tokener_success else {
            let desc = String(cString: json_tokener_error_desc(err))
            switch err {
            case json_tokener_error_depth:
                throw JSONError(.tooDeep, offset: end, "nesting deeper than \(maxDepth)")
            case json_tokener_error_parse_eof, json_tokener_continue:
                throw JSONError(.incomplete, offset: min(end, n), "unexpected end of input")
            case json_tokener_error_parse_utf8_string:
                throw JSONError(.invalidUTF8, offset: end, "invalid UTF-8")
            default:
                throw JSONError(.syntax, offset: min(end, n), desc)
            }
        }
        guard end >= n else { throw JSONError(.syntax, offset: end, "trailing data after the value") }
        return convert(obj)
    }

    /// Copies a json-c object tree into `JSON`. Does not take ownership of `obj`.
    private static func convert(_ obj: OpaquePointer?) -> JSON {
        switch json_object_get_type(obj) {
        case json_type_null:
            return .null
        case json_type_boolean:
            return .bool(json_object_get_boolean(obj) != 0)
        case json_type_int:
            // The lexical check admitted only literals within Int64, so this is exact.
            return .int(json_object_get_int64(obj))
        case json_type_double:
            return .double(json_object_get_double(obj))
        case json_type_string:
            let len = Int(json_object_get_string_len(obj))
            guard let p = json_object_get_string(obj) else { return .string("") }
            let bytes = UnsafeRawBufferPointer(start: p, count: len)
            return .string(String(decoding: bytes, as: UTF8.self))
        case json_type_array:
            let count = json_object_array_length(obj)
            var items = [JSON]()
            items.reserveCapacity(count)
            for i in 0..<count { items.append(convert(json_object_array_get_idx(obj, i))) }
            return .array(items)
        case json_type_object:
            var members = JSONObject()
            members.reserveCapacity(Int(json_object_object_length(obj)))
            var it = json_object_iter_begin(obj)
            var end = json_object_iter_end(obj)
            while json_object_iter_equal(&it, &end) == 0 {
                // json-c's object holds each key once (a duplicate replaced the earlier value in place).
                let key = String(cString: json_object_iter_peek_name(&it))
                members.appendUniqueKey(key, convert(json_object_iter_peek_value(&it)))
                json_object_iter_next(&it)
            }
            return .object(members)
        default:
            return .null
        }
    }
}

/// Strict UTF-8 (RFC 3629): shortest form only, no surrogates, at most U+10FFFF.
public enum UTF8Check {
    /// The offset of the first byte of the first invalid sequence, or nil when all of `bytes` is UTF-8.
    public static func firstInvalidOffset(_ bytes: some Collection<UInt8>) -> Int? {
        var it = bytes.makeIterator()
        var offset = 0
        var pending: UInt8? = nil
        while true {
            guard let b0 = pending ?? it.next() else { return nil }
            pending = nil
            let start = offset
            offset += 1
            if b0 < 0x80 { continue }
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // allowed range of the second byte
            switch b0 {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return start
            }
            for k in 0..<need {
                guard let b = it.next() else { return start }
                let ok = k == 0 ? (lo...hi).contains(b) : (0x80...0xBF).contains(b)
                guard ok else { return start }
                offset += 1
            }
        }
    }
}

/// A byte-level pass over UTF-8-valid input for what json-c lets through (see the file header).
enum LexicalCheck {
    static func run(_ b: [UInt8], maxDepth: Int, rejectDuplicateKeys: Bool = false) throws(JSONError) {
        let n = b.count
        var i = 0
        var depth = 0
        // With rejectDuplicateKeys: per open container, nil for an array, or the object's keys so far.
        var keys = KeyTracker(enabled: rejectDuplicateKeys)
        while i < n {
            let c = b[i]
            switch c {
            case UInt8(ascii: "\""):
                let open = i
                i += 1
                var escaped = false
                while i < n {
                    let s = b[i]
                    if s == UInt8(ascii: "\"") { break }
                    if s == UInt8(ascii: "\\") { i += 2; escaped = true; continue }
                    if s < 0x20 {
                        throw JSONError(.controlCharacter, offset: i, "raw control character in string")
                    }
                    i += 1
                }
                if keys.expectsKey { try keys.add(b, open: open, close: min(i, n - 1), escaped: escaped) }
                i += 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var j = i
                while j < n, isNumberByte(b[j]) { j += 1 }
                if j < n, b[j] == UInt8(ascii: "I"), j == i + 1 {
                    throw JSONError(.nonFiniteNumber, offset: i, "non-finite number literal")
                }
                try checkNumber(b[i..<j], offset: i)
                i = j
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth {
                    throw JSONError(.tooDeep, offset: i, "nesting deeper than \(maxDepth)")
                }
                keys.open(object: c == UInt8(ascii: "{"))
                i += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                keys.close()
                i += 1
            case UInt8(ascii: ","):
                keys.nextMember()
                i += 1
            case UInt8(ascii: "N"), UInt8(ascii: "I"):
                throw JSONError(.nonFiniteNumber, offset: i, "non-finite number literal")
            case 0x09, 0x0A, 0x0D:
                i += 1
            case 0..<0x20:
                throw JSONError(.controlCharacter, offset: i, "control character outside a string")
            default:
                i += 1
            }
        }
    }

    private static func isNumberByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
            UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
            return true
        default: return false
        }
    }

    /// RFC 8259: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, then range checks.
    private static func checkNumber(_ t: ArraySlice<UInt8>, offset: Int) throws(JSONError) {
        let bad = JSONError(.invalidNumber, offset: offset, "invalid number")
        var i = t.startIndex
        let end = t.endIndex
        func isDigit(_ k: Int) -> Bool { k < end && t[k] >= UInt8(ascii: "0") && t[k] <= UInt8(ascii: "9") }
        if i < end, t[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw bad }
        if t[i] == UInt8(ascii: "0") { i += 1 } else { while isDigit(i) { i += 1 } }
        var integral = true
        if i < end, t[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard isDigit(i) else { throw bad }
            while isDigit(i) { i += 1 }
        }
        if i < end, t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < end, t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw bad }
            while isDigit(i) { i += 1 }
        }
        guard i == end else { throw bad }
        let text = String(decoding: t, as: UTF8.self)
        if integral {
            guard Int64(text) != nil else {
                throw JSONError(.integerOutOfRange, offset: offset, "integer outside the 64-bit signed range")
            }
        } else if let d = Double(text), !d.isFinite {
            throw JSONError(.nonFiniteNumber, offset: offset, "number overflows a double")
        }
    }
}

/// The keys of each open object, for `rejectDuplicateKeys`. A key is compared by its decoded text: an
/// escaped key (`"\u0061"`) is decoded by parsing it alone. Malformed nesting is left to json-c.
struct KeyTracker {
    let enabled: Bool
    /// One entry per open container: nil for an array, else the object's keys (raw UTF-8, decoded).
    private var frames: [Set<[UInt8]>?] = []
    /// The next string in the innermost object is a key (after `{` or `,`).
    private(set) var expectsKey = false

    init(enabled: Bool) { self.enabled = enabled }

    mutating func open(object: Bool) {
        guard enabled else { return }
        frames.append(object ? [] : nil)
        expectsKey = object
    }

    mutating func close() {
        guard enabled, !frames.isEmpty else { return }
        frames.removeLast()
        expectsKey = false
    }

    mutating func nextMember() {
        guard enabled, let top = frames.last else { return }
        expectsKey = top != nil
    }

    /// Records the key `b[open...close]` (quotes included) of the innermost object.
    mutating func add(_ b: [UInt8], open: Int, close: Int, escaped: Bool) throws(JSONError) {
        expectsKey = false
        guard close > open, let top = frames.indices.last, frames[top] != nil else { return }
        var key = Array(b[(open + 1)..<close])
        if escaped, case .string(let s) = try JSON.parse(b[open...close]) { key = Array(s.utf8) }
        guard frames[top]!.insert(key).inserted else {
            throw JSONError(.duplicateKey, offset: open, "duplicate key \"\(String(decoding: key, as: UTF8.self))\"")
        }
    }
}
