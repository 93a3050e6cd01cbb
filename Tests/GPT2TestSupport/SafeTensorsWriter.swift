// SafeTensorsWriter — builds .safetensors bytes from Swift for tests: valid files (header
// padded with spaces to 8 bytes, as the reference writer does) and, through the raw
// `fileBytes(header:data:)` entry point, deliberately corrupt ones.

import Foundation

/// Accumulates tensors and writes them in insertion order, offsets packed back to back.
public struct SafeTensorsWriter {
    public struct Entry {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: [UInt8]
    }

    public var entries: [Entry] = []
    /// Written as "__metadata__" when non-nil.
    public var metadata: [String: String]? = ["format": "pt"]

    public init() {}

    public mutating func add(_ name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Adds floats encoded as F32, F16 (round to nearest) or BF16 (round to nearest even).
    public mutating func add(_ name: String, shape: [Int], floats: [Float], dtype: String = "F32") {
        add(name, dtype: dtype, shape: shape, bytes: Self.encode(floats, as: dtype))
    }

    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) {
        var out: [UInt8] = []
        for v in int64s { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        add(name, dtype: "I64", shape: shape, bytes: out)
    }

    /// Little-endian bytes of `floats` in `dtype` ("F32", "F16", "BF16", "F64").
    public static func encode(_ floats: [Float], as dtype: String) -> [UInt8] {
        var out: [UInt8] = []
        switch dtype {
        case "F16":
            for f in floats { withUnsafeBytes(of: Float16(f).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case "BF16":
            for f in floats { withUnsafeBytes(of: bf16Bits(f).littleEndian) { out.append(contentsOf: $0) } }
        case "F64":
            for f in floats { withUnsafeBytes(of: Double(f).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        default:
            for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    /// Float → BF16 bits, round to nearest even (finite inputs).
    public static func bf16Bits(_ f: Float) -> UInt16 {
        let b = f.bitPattern
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    /// The value a float becomes after a round trip through `dtype`.
    public static func roundTrip(_ f: Float, through dtype: String) -> Float {
        switch dtype {
        case "F16": return Float(Float16(f))
        case "BF16": return Float(bitPattern: UInt32(bf16Bits(f)) << 16)
        default: return f
        }
    }

    /// The JSON header with offsets packed in insertion order.
    public func headerJSON() -> String {
        var parts: [String] = []
        if let metadata {
            let kv = metadata.sorted(by: { $0.key < $1.key }).map { "\(Self.quote($0.key)):\(Self.quote($0.value))" }
            parts.append("\"__metadata__\":{\(kv.joined(separator: ","))}")
        }
        var offset = 0
        for e in entries {
            let end = offset + e.bytes.count
            parts.append("\(Self.quote(e.name)):{\"dtype\":\(Self.quote(e.dtype)),\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Concatenated tensor bytes.
    public func data() -> [UInt8] { entries.flatMap(\.bytes) }

    /// A complete file. `extraHeaderSpaces` after 8-byte padding lets a test misalign the data.
    public func fileBytes(extraHeaderSpaces: Int = 0) -> [UInt8] {
        Self.fileBytes(header: headerJSON(), data: data(), extraHeaderSpaces: extraHeaderSpaces)
    }

    /// Raw file assembly for corrupt cases: header padded with spaces to a multiple of 8 (then
    /// `extraHeaderSpaces` more); `declaredLength` overrides the u64 prefix.
    public static func fileBytes(header: String, data: [UInt8], declaredLength: UInt64? = nil,
                                 extraHeaderSpaces: Int = 0, pad: Bool = true) -> [UInt8] {
        var h = Array(header.utf8)
        if pad { while (8 + h.count) % 8 != 0 { h.append(0x20) } }
        h.append(contentsOf: repeatElement(0x20, count: extraHeaderSpaces))
        var out: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        out.append(contentsOf: data)
        return out
    }

    public func write(to path: String, extraHeaderSpaces: Int = 0) throws {
        try writeFile(fileBytes(extraHeaderSpaces: extraHeaderSpaces), to: path)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// Writes bytes to `path`, replacing any file.
public func writeFile(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Writes text to `path`, replacing any file.
public func writeFile(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// A fresh empty directory under the system temp dir.
public func makeTempDirectory(_ label: String = "gpt2d-test") -> String {
    let path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Removes a directory made by `makeTempDirectory` (errors ignored).
public func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}
