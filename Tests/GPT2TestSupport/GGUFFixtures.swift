// GGUFFixtures — the .gguf fixtures (Tests/Fixtures/gguf, written by scripts/make_gguf_fixtures.py
// with llama.cpp's gguf-py) with what llama.cpp's dequantization computes for each, and a writer of
// hand-made GGUF bytes (`GGUFBytes`) for the malformed-file tests.
import Foundation

public enum GGUFFixtures {
    /// One fixture as Tests/Fixtures/gguf/MANIFEST.json lists it.
    public struct Fixture: Sendable, CustomStringConvertible {
        public let name: String
        /// The .gguf file's path.
        public let path: String
        /// The safetensors twin relative to Tests/Fixtures (nil: weights of its own).
        public let twin: String?
        /// The weight type gpt2d serves it in by default ("float32", "float16", "q4").
        public let servedWeightType: String
        public let tied: Bool
        /// ggml type name of each GGUF tensor ("Q8_0", …).
        public let types: [String: String]
        /// `<name>.expected.safetensors`: input_ids, logits, rows.<tensor>, row_ids.<tensor>.
        public let expectedPath: String
        public var description: String { name }
    }

    public static let directory = Fixtures.root + "/Tests/Fixtures/gguf"
    /// vocab.json + merges.txt holding the same tokenizer as the files' tokenizer.ggml lists.
    public static let vocabTwin = directory + "/vocab-1000"

    private static let manifest: [String: Any] = {
        let path = directory + "/MANIFEST.json"
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { fatalError("cannot read \(path)") }
        return obj
    }()

    public static let all: [Fixture] = (manifest["fixtures"] as! [[String: Any]]).map { f in
        Fixture(name: f["name"] as! String, path: directory + "/" + (f["file"] as! String), twin: f["twin"] as? String,
                servedWeightType: f["served_weight_type"] as! String, tied: f["tied"] as! Bool,
                types: f["types"] as! [String: String], expectedPath: directory + "/" + (f["expected"] as! String))
    }

    public static func fixture(_ name: String) -> Fixture { all.first { $0.name == name }! }
}

/// GGUF bytes written field by field (version 3, little-endian), for hand-made files. `bytes()`
/// lays tensors out at aligned offsets unless a tensor's `offset` overrides its entry.
public struct GGUFBytes {
    public enum Value {
        case u32(UInt32), u64(UInt64), f32(Float), string(String), strings([String]), i32s([Int32])
        /// Any type number and the value's bytes as written.
        case raw(type: UInt32, bytes: [UInt8])
    }

    public struct Entry {
        public var name: String
        /// ne0 first.
        public var dims: [UInt64]
        public var type: UInt32
        public var data: [UInt8]
        /// Written instead of the computed offset.
        public var offset: UInt64?
    }

    public var magic: [UInt8] = Array("GGUF".utf8)
    public var version: UInt32 = 3
    public var metadata: [(key: String, value: Value)] = []
    public var tensors: [Entry] = []
    public var alignment = 32
    /// Written instead of the real counts.
    public var tensorCount: UInt64?, keyCount: UInt64?

    public init() {}

    /// `v` little-endian.
    public static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    /// A GGUF string: u64 length + UTF-8.
    public static func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    static func encode(_ v: Value) -> [UInt8] {
        switch v {
        case .u32(let x): return le(UInt32(4)) + le(x)
        case .u64(let x): return le(UInt32(10)) + le(x)
        case .f32(let x): return le(UInt32(6)) + le(x.bitPattern)
        case .string(let s): return le(UInt32(8)) + string(s)
        case .strings(let a): return le(UInt32(9)) + le(UInt32(8)) + le(UInt64(a.count)) + a.flatMap(string)
        case .i32s(let a): return le(UInt32(9)) + le(UInt32(5)) + le(UInt64(a.count)) + a.flatMap { le($0) }
        case .raw(let type, let bytes): return le(type) + bytes
        }
    }

    /// Byte offset of each tensor's data from the data start, as `bytes()` lays them out.
    public var layout: [UInt64] {
        var at = 0
        return tensors.map { t in
            defer { at = (at + t.data.count + alignment - 1) / alignment * alignment }
            return UInt64(at)
        }
    }

    public func bytes() -> [UInt8] {
        var b = magic + Self.le(version) + Self.le(tensorCount ?? UInt64(tensors.count)) + Self.le(keyCount ?? UInt64(metadata.count))
        for (k, v) in metadata { b += Self.string(k) + Self.encode(v) }
        for (t, at) in zip(tensors, layout) {
            b += Self.string(t.name) + Self.le(UInt32(t.dims.count)) + t.dims.flatMap { Self.le($0) } + Self.le(t.type) + Self.le(t.offset ?? at)
        }
        let start = (b.count + alignment - 1) / alignment * alignment
        for (t, at) in zip(tensors, layout) {
            b += [UInt8](repeating: 0, count: start + Int(at) - b.count)
            b += t.data
        }
        return b
    }

    /// Metadata index of `key`.
    public func keyIndex(_ key: String) -> Int? { metadata.firstIndex { $0.key == key } }

    /// A valid tiny GPT-2 in F32: vocab 8, n_embd 4, n_inner 8, 1 layer, 1 head, 4 positions (values
    /// from a fixed sequence), with the gpt2.* keys llama.cpp writes.
    public static func tinyModel(architecture: String = "gpt2") -> GGUFBytes {
        var g = GGUFBytes()
        g.metadata = [
            ("general.architecture", .string(architecture)), ("gpt2.context_length", .u32(4)),
            ("gpt2.embedding_length", .u32(4)), ("gpt2.feed_forward_length", .u32(8)), ("gpt2.block_count", .u32(1)),
            ("gpt2.attention.head_count", .u32(1)), ("gpt2.attention.layer_norm_epsilon", .f32(1e-5)),
        ]
        var seed: UInt32 = 12345
        func f32(_ dims: [UInt64]) -> [UInt8] {
            (0..<Int(dims.reduce(1, *))).flatMap { _ -> [UInt8] in
                seed = seed &* 1_103_515_245 &+ 12345
                return le((Float(Int(seed >> 16 & 0xff) - 128) / 512).bitPattern)
            }
        }
        func add(_ name: String, _ dims: [UInt64]) { g.tensors.append(Entry(name: name, dims: dims, type: 0, data: f32(dims))) }
        add("token_embd.weight", [4, 8]); add("position_embd.weight", [4, 4])
        for part in ["attn_norm", "ffn_norm"] { add("blk.0.\(part).weight", [4]); add("blk.0.\(part).bias", [4]) }
        add("blk.0.attn_qkv.weight", [4, 12]); add("blk.0.attn_qkv.bias", [12])
        add("blk.0.attn_output.weight", [4, 4]); add("blk.0.attn_output.bias", [4])
        add("blk.0.ffn_up.weight", [4, 8]); add("blk.0.ffn_up.bias", [8])
        add("blk.0.ffn_down.weight", [8, 4]); add("blk.0.ffn_down.bias", [4])
        add("output_norm.weight", [4]); add("output_norm.bias", [4])
        return g
    }
}
