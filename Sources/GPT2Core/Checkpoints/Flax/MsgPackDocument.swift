// MsgPackDocument — one msgpack value decoded by msgpack-c (CMsgPack) from a buffer that
// MsgPackBounds has checked first. msgpack-c's C unpacker references the buffer: every str, bin and
// ext payload it returns points into the caller's bytes (for a checkpoint, into the file's
// mapping), so nothing but the object tree (in msgpack-c's zone, freed with the document) is
// allocated. The buffer must outlive the document.

import CMsgPack

/// A decoded msgpack value over a caller-owned buffer.
final class MsgPackDocument {
    private var unpacked = msgpack_unpacked()
    /// The top-level value.
    var root: msgpack_object { unpacked.data }

    /// Decodes `bytes` (exactly one value within `limits`). Throws `MsgPackBounds.Violation`.
    init(_ bytes: UnsafeRawBufferPointer, limits: MsgPackLimits) throws(MsgPackBounds.Violation) {
        try MsgPackBounds.check(bytes, limits: limits)
        msgpack_unpacked_init(&unpacked)
        var offset = 0
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        let result = msgpack_unpack_next(&unpacked, base, bytes.count, &offset)
        guard result == MSGPACK_UNPACK_SUCCESS else {
            msgpack_unpacked_destroy(&unpacked)
            let why = result == MSGPACK_UNPACK_NOMEM_ERROR ? "out of memory" : result == MSGPACK_UNPACK_CONTINUE ? "truncated" : "parse error"
            throw MsgPackBounds.Violation(offset: offset, reason: "msgpack-c: \(why)")
        }
    }

    deinit { msgpack_unpacked_destroy(&unpacked) }
}

extension msgpack_object {
    /// The value's kind in words (for error messages).
    var kindName: String {
        switch type {
        case MSGPACK_OBJECT_NIL: return "nil"
        case MSGPACK_OBJECT_BOOLEAN: return "boolean"
        case MSGPACK_OBJECT_POSITIVE_INTEGER, MSGPACK_OBJECT_NEGATIVE_INTEGER: return "integer"
        case MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64: return "float"
        case MSGPACK_OBJECT_STR: return "string"
        case MSGPACK_OBJECT_ARRAY: return "array"
        case MSGPACK_OBJECT_MAP: return "map"
        case MSGPACK_OBJECT_BIN: return "bin"
        case MSGPACK_OBJECT_EXT: return "ext \(via.ext.type)"
        default: return "unknown"
        }
    }

    /// A str value's text (nil for other kinds or invalid UTF-8).
    var string: String? {
        guard type == MSGPACK_OBJECT_STR else { return nil }
        return String(validating: bytes(via.str.ptr, via.str.size), as: UTF8.self)
    }

    /// A non-negative integer's value (nil otherwise, or beyond Int).
    var count: Int? {
        guard type == MSGPACK_OBJECT_POSITIVE_INTEGER, via.u64 <= UInt64(Int.max) else { return nil }
        return Int(via.u64)
    }

    /// A map's entries (empty for other kinds).
    var entries: UnsafeBufferPointer<msgpack_object_kv> {
        guard type == MSGPACK_OBJECT_MAP, let p = via.map.ptr else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(via.map.size))
    }

    /// An array's items (empty for other kinds).
    var items: UnsafeBufferPointer<msgpack_object> {
        guard type == MSGPACK_OBJECT_ARRAY, let p = via.array.ptr else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(via.array.size))
    }

    /// A bin value's bytes, or an ext value's payload (inside the decoded buffer).
    var payload: UnsafeRawBufferPointer? {
        switch type {
        case MSGPACK_OBJECT_BIN: return bytes(via.bin.ptr, via.bin.size)
        case MSGPACK_OBJECT_EXT: return bytes(via.ext.ptr, via.ext.size)
        default: return nil
        }
    }

    private func bytes(_ p: UnsafePointer<CChar>?, _ n: UInt32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p.map { UnsafeRawPointer($0) }, count: p == nil ? 0 : Int(n))
    }
}
