// MsgPackBounds — the size and nesting checks msgpack-c lacks, run over a buffer before msgpack-c
// decodes it (MsgPackDocument).
//
// msgpack-c's C unpacker allocates a container's declared element count (24 bytes per array item,
// 48 per map entry) as soon as it reads the container's header, before any element, and knows no
// limit but its 32-level stack: a 6-byte file declaring 2^32 − 1 map entries asks it for ~200 GB.
// This scan walks only the framing (type byte, length fields) — it builds no value — and refuses,
// naming the byte offset:
//   - a container declaring more elements than bytes remain (every element takes ≥ 1 byte),
//   - a str / bin / ext payload running past the end,
//   - nesting deeper than `Limits.depth`, more than `Limits.objects` values in all,
//   - the reserved byte 0xc1, and bytes after the one top-level value.
// After it passes, msgpack-c's allocations are bounded by 48 · `Limits.objects` bytes.

/// Bounds on one msgpack buffer.
struct MsgPackLimits: Sendable {
    /// Deepest container nesting (the top-level value is depth 1).
    var depth: Int
    /// Most values (containers, scalars, keys) in the whole buffer.
    var objects: Int
}

enum MsgPackBounds {
    /// Why a buffer was refused, at which byte.
    struct Violation: Error, Equatable {
        let offset: Int
        let reason: String
    }

    /// Checks that `bytes` is exactly one msgpack value within `limits`. Throws `Violation`.
    static func check(_ bytes: UnsafeRawBufferPointer, limits: MsgPackLimits) throws(Violation) {
        let n = bytes.count
        var at = 0
        var objects = 0
        // Values still to read in each open container (innermost last); the top level is one value.
        var pending: [Int] = [1]
        while let last = pending.last {
            if last == 0 { pending.removeLast(); continue }
            pending[pending.count - 1] = last - 1
            guard at < n else { throw Violation(offset: at, reason: "the data ends inside a value (truncated)") }
            objects += 1
            guard objects <= limits.objects else {
                throw Violation(offset: at, reason: "more than \(limits.objects) values")
            }
            let start = at
            let b = bytes[at]
            at += 1
            // Reads a big-endian length of `width` bytes.
            func length(_ width: Int) throws(Violation) -> Int {
                guard n - at >= width else { throw Violation(offset: start, reason: "the data ends inside a length field (truncated)") }
                var v = 0
                for i in 0..<width { v = v << 8 | Int(bytes[at + i]) }
                at += width
                return v
            }
            func skip(_ count: Int, _ what: String) throws(Violation) {
                guard count <= n - at else {
                    throw Violation(offset: start, reason: "\(what) of \(count) bytes runs past the end of the data (\(n - at) bytes left)")
                }
                at += count
            }
            func open(_ count: Int, perElement: Int, _ what: String) throws(Violation) {
                // Each element takes at least one byte: a count beyond what is left is a lie.
                guard count <= (n - at) / perElement else {
                    throw Violation(offset: start, reason: "\(what) declares \(count) entries but only \(n - at) bytes are left")
                }
                guard pending.count <= limits.depth else {  // pending holds the top level + each open container
                    throw Violation(offset: start, reason: "containers nested deeper than \(limits.depth) levels")
                }
                pending.append(count * perElement)
            }
            switch b {
            case 0x00...0x7f, 0xe0...0xff, 0xc0, 0xc2, 0xc3: break
            case 0x80...0x8f: try open(Int(b & 0x0f), perElement: 2, "a map")
            case 0x90...0x9f: try open(Int(b & 0x0f), perElement: 1, "an array")
            case 0xa0...0xbf: try skip(Int(b & 0x1f), "a string")
            case 0xc1: throw Violation(offset: start, reason: "byte 0xc1 is never used in msgpack")
            case 0xc4, 0xc5, 0xc6: try skip(try length(1 << Int(b - 0xc4)), "a bin payload")
            case 0xc7, 0xc8, 0xc9: let size = try length(1 << Int(b - 0xc7)); try skip(1 + size, "an ext payload")
            case 0xca: try skip(4, "a float32")
            case 0xcb: try skip(8, "a float64")
            case 0xcc...0xcf: try skip(1 << Int(b - 0xcc), "an unsigned integer")
            case 0xd0...0xd3: try skip(1 << Int(b - 0xd0), "an integer")
            case 0xd4...0xd8: try skip(1 + (1 << Int(b - 0xd4)), "a fixext payload")
            case 0xd9, 0xda, 0xdb: try skip(try length(1 << Int(b - 0xd9)), "a string")
            case 0xdc, 0xdd: try open(try length(b == 0xdc ? 2 : 4), perElement: 1, "an array")
            case 0xde, 0xdf: try open(try length(b == 0xde ? 2 : 4), perElement: 2, "a map")
            default: throw Violation(offset: start, reason: "unknown type byte")  // unreachable: every byte is listed
            }
        }
        guard at == n else { throw Violation(offset: at, reason: "\(n - at) bytes after the top-level value") }
    }
}
