// PyTorchFixtures — the pytorch_model.bin fixtures (Tests/Fixtures/pytorch, written by
// scripts/make_pickle_fixtures.py) with their safetensors twins, and a writer of hand-made legacy
// torch.save files (`LegacyTorchFile`) for the malformed-file tests.
import Foundation

public enum PyTorchFixtures {
    /// One fixture as Tests/Fixtures/pytorch/MANIFEST.json lists it.
    public struct Fixture: Sendable, CustomStringConvertible {
        public let name: String
        /// The safetensors twin, relative to Tests/Fixtures (e.g. "models/tiny-hub").
        public let twin: String
        /// "zip" or "legacy".
        public let layout: String
        /// The global the malicious fixtures' payload calls; nil for a loadable checkpoint.
        public let refusedGlobal: String?
        public var directory: String { PyTorchFixtures.directory(name) }
        public var twinDirectory: String { Fixtures.root + "/Tests/Fixtures/" + twin }
        public var description: String { name }
    }

    public static func directory(_ name: String) -> String { Fixtures.root + "/Tests/Fixtures/pytorch/" + name }

    private static let manifest: [String: Any] = {
        let path = Fixtures.root + "/Tests/Fixtures/pytorch/MANIFEST.json"
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { fatalError("cannot read \(path)") }
        return obj
    }()

    /// Every fixture.
    public static let all: [Fixture] = (manifest["fixtures"] as! [[String: Any]]).map { f in
        Fixture(name: f["name"] as! String, twin: f["twin"] as! String, layout: f["layout"] as! String,
                refusedGlobal: f["refused_global"] as? String)
    }

    /// The fixtures that load.
    public static var loadable: [Fixture] { all.filter { $0.refusedGlobal == nil } }
    /// The fixtures whose pickle calls a dangerous global.
    public static var malicious: [Fixture] { all.filter { $0.refusedGlobal != nil } }
    /// The file a malicious payload would create if it ran.
    public static var payloadMarker: String { manifest["payload_marker"] as! String }
}

/// Bytes of a legacy-layout torch.save file built opcode by opcode: the three header pickles
/// (magic number, protocol 1001, sys info), a state-dict pickle, the storage-key list and the
/// storages. Each piece can be replaced to make a malformed file.
public struct LegacyTorchFile {
    public static let magicPickle: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
    public static let protocolPickle: [UInt8] = [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]  // BININT2 1001
    public static let sysInfoPickle: [UInt8] = [0x80, 0x02, 0x7D, 0x2E]                 // {}

    public var header: [UInt8] = magicPickle + protocolPickle + sysInfoPickle
    public var stateDict: [UInt8]
    public var keys: [UInt8]
    public var storages: [UInt8]

    /// One F32 tensor `name` of `values` with the given sizes/strides; the storage declares `numel`
    /// elements (default: values.count) and its data section says `countField` (default: numel).
    public init(name: String = "wte.weight", values: [Float], size: [Int], stride: [Int], offset: Int = 0,
                numel: Int? = nil, countField: UInt64? = nil) {
        let n = numel ?? values.count
        var p = Pickle()
        p.proto()
        p.global("collections", "OrderedDict"); p.emptyTuple(); p.reduce()
        p.mark()
        p.string(name)
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.mark(); p.string("storage"); p.global("torch", "FloatStorage"); p.string("0"); p.string("cpu"); p.int(n); p.none(); p.tuple()
        p.persistentID()
        p.int(offset)
        p.mark(); for s in size { p.int(s) }; p.tuple()
        p.mark(); for s in stride { p.int(s) }; p.tuple()
        p.newFalse()
        p.global("collections", "OrderedDict"); p.emptyTuple(); p.reduce()
        p.tuple(); p.reduce()
        p.setItems()
        p.stop()
        stateDict = p.bytes
        var k = Pickle()
        k.proto(); k.emptyList(); k.string("0"); k.append(); k.stop()
        keys = k.bytes
        storages = withUnsafeBytes(of: (countField ?? UInt64(n)).littleEndian, Array.init)
            + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
    }

    public var bytes: [UInt8] { header + stateDict + keys + storages }
}

/// A pickle written opcode by opcode (protocol 2 opcodes).
public struct Pickle {
    public var bytes: [UInt8] = []
    public init() {}
    public mutating func proto() { bytes += [0x80, 0x02] }
    public mutating func stop() { bytes.append(0x2E) }
    public mutating func mark() { bytes.append(0x28) }
    public mutating func tuple() { bytes.append(0x74) }
    public mutating func emptyTuple() { bytes.append(0x29) }
    public mutating func emptyList() { bytes.append(0x5D) }
    public mutating func append() { bytes.append(0x61) }
    public mutating func none() { bytes.append(0x4E) }
    public mutating func newFalse() { bytes.append(0x89) }
    public mutating func reduce() { bytes.append(0x52) }
    public mutating func setItems() { bytes.append(0x75) }
    public mutating func persistentID() { bytes.append(0x51) }
    public mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array((module + "\n" + name + "\n").utf8) }
    public mutating func string(_ s: String) {
        let u = Array(s.utf8)
        bytes += [0x58] + withUnsafeBytes(of: UInt32(u.count).littleEndian, Array.init) + u
    }
    /// LONG1 with 8 bytes (any Int).
    public mutating func int(_ v: Int) { bytes += [0x8A, 0x08] + withUnsafeBytes(of: Int64(v).littleEndian, Array.init) }
}
