// TFFlaxFixtures — the tf_model.h5 / flax_model.msgpack fixtures (Tests/Fixtures/tfflax, written by
// scripts/make_tf_flax_fixtures.py with transformers 4.57.1) with their safetensors twins, and a
// writer of hand-made msgpack bytes (`MsgPackBytes`) for the malformed-file tests.
import Foundation

public enum TFFlaxFixtures {
    /// One fixture as Tests/Fixtures/tfflax/MANIFEST.json lists it.
    public struct Fixture: Sendable, CustomStringConvertible {
        public let name: String
        /// The safetensors twin, relative to Tests/Fixtures (e.g. "models/tiny-hub").
        public let twin: String
        /// "tensorflow" or "flax" (CheckpointFormat's raw value).
        public let format: String
        /// The transformers class that wrote it (e.g. "TFGPT2LMHeadModel").
        public let modelClass: String
        /// "F32", "F16" or "BF16".
        public let dtype: String
        public let files: [String]
        public var directory: String { TFFlaxFixtures.directory(name) }
        public var twinDirectory: String { Fixtures.root + "/Tests/Fixtures/" + twin }
        public var description: String { name }
    }

    public static func directory(_ name: String) -> String { Fixtures.root + "/Tests/Fixtures/tfflax/" + name }

    private static let manifest: [String: Any] = {
        let path = Fixtures.root + "/Tests/Fixtures/tfflax/MANIFEST.json"
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { fatalError("cannot read \(path)") }
        return obj
    }()

    /// Every fixture.
    public static let all: [Fixture] = (manifest["fixtures"] as! [[String: Any]]).map { f in
        Fixture(name: f["name"] as! String, twin: f["twin"] as! String, format: f["format"] as! String,
                modelClass: f["model_class"] as! String, dtype: f["dtype"] as! String, files: f["files"] as! [String])
    }

    /// The fixture named `name`.
    public static func fixture(_ name: String) -> Fixture { all.first { $0.name == name }! }

    /// The fixture's golden.json (the head fixtures: outputs TF computed).
    public static func golden(_ name: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory(name) + "/golden.json"))
        return (try JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
    }
}

/// msgpack bytes written value by value (big-endian lengths, the widest forms), for hand-made
/// Flax files.
public struct MsgPackBytes {
    public var bytes: [UInt8] = []
    public init() {}

    private mutating func be32(_ v: Int) { bytes += withUnsafeBytes(of: UInt32(v).bigEndian, Array.init) }
    public mutating func map(_ count: Int) { bytes.append(0xdf); be32(count) }
    public mutating func array(_ count: Int) { bytes.append(0xdd); be32(count) }
    public mutating func string(_ s: String) { let u = Array(s.utf8); bytes.append(0xdb); be32(u.count); bytes += u }
    public mutating func uint(_ v: Int) { bytes.append(0xcf); bytes += withUnsafeBytes(of: UInt64(v).bigEndian, Array.init) }
    public mutating func bin(_ b: [UInt8]) { bytes.append(0xc6); be32(b.count); bytes += b }
    public mutating func ext(_ type: Int8, _ payload: [UInt8]) {
        bytes.append(0xc9); be32(payload.count); bytes.append(UInt8(bitPattern: type)); bytes += payload
    }

    /// A flax ndarray leaf: ext 1 of [shape, dtype, data].
    public mutating func ndarray(shape: [Int], dtype: String, data: [UInt8]) {
        var p = MsgPackBytes()
        p.array(3)
        p.array(shape.count); for d in shape { p.uint(d) }
        p.string(dtype)
        p.bin(data)
        ext(1, p.bytes)
    }
}
