// TinyCheckpoint — writes a complete Hugging Face-shaped GPT-2 checkpoint directory
// (config.json + model.safetensors, or shards + model.safetensors.index.json) with
// deterministic pseudo-random weights. Values depend only on the normalised tensor name and
// element index, so every key layout, dtype and shard split describes the same model.

import Foundation
import GPT2Core

public enum TinyCheckpoint {
    /// How body keys are spelled.
    public enum Layout: Sendable {
        /// `wte.weight`, `h.0.ln_1.weight` (Hub base checkpoints saved from GPT2Model).
        case bare
        /// `transformer.wte.weight` (saved from a head class such as GPT2LMHeadModel).
        case prefixed
    }

    public struct Options {
        public var layout: Layout = .bare
        /// "F32", "F16", "BF16" (or anything else, written as given, for error tests).
        public var dtype: String = "F32"
        /// 1 → model.safetensors; > 1 → model-0000i-of-0000n.safetensors + index.
        public var shards: Int = 1
        /// Add the old `h.N.attn.bias` [1,1,P,P] and `h.N.attn.masked_bias` [] buffers.
        public var includeMaskBuffers = false
        /// Write `lm_head.weight` [V, C] (distinct values from wte).
        public var includeLMHead = false
        /// Head tensors to add (top-level keys such as "score.weight") with their shapes.
        public var heads: [String: [Int]] = [:]
        /// Normalised keys to leave out.
        public var omit: Set<String> = []
        /// Normalised key → shape to write instead of the correct one.
        public var shapeOverrides: [String: [Int]] = [:]
        /// Extra body tensors (normalised key → shape), spelled with the layout's prefix.
        public var extraBody: [String: [Int]] = [:]
        /// Spaces added after the 8-byte header padding (2 → every tensor misaligned for F32).
        public var extraHeaderSpaces = 0
        public init() {}
    }

    /// A 2-layer model small enough to write in milliseconds: V 11, P 8, C 8, NH 2, F 32.
    public static let tinyConfig = GPT2Config(vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2,
                                              bosTokenId: 10, eosTokenId: 10)

    /// Body tensors (normalised keys) with their shapes, in transformers' state-dict order.
    public static func bodyShapes(_ c: GPT2Config) -> [(key: String, shape: [Int])] {
        let C = c.nEmbd, F = c.nInner
        var out: [(String, [Int])] = [("wte.weight", [c.vocabSize, C]), ("wpe.weight", [c.nPositions, C])]
        for l in 0..<c.nLayer {
            let p = "h.\(l)."
            out += [(p + "ln_1.weight", [C]), (p + "ln_1.bias", [C]),
                    (p + "attn.c_attn.weight", [C, 3 * C]), (p + "attn.c_attn.bias", [3 * C]),
                    (p + "attn.c_proj.weight", [C, C]), (p + "attn.c_proj.bias", [C]),
                    (p + "ln_2.weight", [C]), (p + "ln_2.bias", [C]),
                    (p + "mlp.c_fc.weight", [C, F]), (p + "mlp.c_fc.bias", [F]),
                    (p + "mlp.c_proj.weight", [F, C]), (p + "mlp.c_proj.bias", [C])]
        }
        out += [("ln_f.weight", [C]), ("ln_f.bias", [C])]
        return out.map { (key: $0.0, shape: $0.1) }
    }

    /// Deterministic values in [-1, 1) for a normalised key (FNV-1a of the key seeds splitmix64).
    public static func values(for key: String, count: Int) -> [Float] {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var state = h
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 24) * 2 - 1
        }
    }

    /// The values a loader must produce for `key` when written in `dtype`.
    public static func expectedValues(for key: String, count: Int, dtype: String) -> [Float] {
        values(for: key, count: count).map { SafeTensorsWriter.roundTrip($0, through: dtype) }
    }

    /// config.json text in transformers' shape (n_ctx duplicated as old configs do).
    public static func configJSON(_ c: GPT2Config, extra: [String: String] = [:]) -> String {
        func opt(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        var fields: [(String, String)] = [
            ("activation_function", "\"\(c.activation.rawValue)\""),
            ("architectures", "[" + c.architectures.map { "\"\($0)\"" }.joined(separator: ", ") + "]"),
            ("attn_pdrop", "0.1"), ("bos_token_id", opt(c.bosTokenId)), ("embd_pdrop", "0.1"),
            ("eos_token_id", opt(c.eosTokenId)),
            ("id2label", "{" + c.id2label.sorted(by: { $0.key < $1.key }).map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ") + "}"),
            ("label2id", "{" + c.label2id.sorted(by: { $0.value < $1.value }).map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"),
            ("initializer_range", "0.02"), ("layer_norm_epsilon", "\(c.layerNormEpsilon)"),
            ("model_type", "\"gpt2\""), ("n_ctx", "\(c.nPositions)"), ("n_embd", "\(c.nEmbd)"),
            ("n_head", "\(c.nHead)"), ("n_inner", c.nInner == 4 * c.nEmbd ? "null" : "\(c.nInner)"),
            ("n_layer", "\(c.nLayer)"), ("n_positions", "\(c.nPositions)"),
            ("pad_token_id", opt(c.padTokenId)),
            ("reorder_and_upcast_attn", "\(c.reorderAndUpcastAttn)"), ("resid_pdrop", "0.1"),
            ("scale_attn_by_inverse_layer_idx", "\(c.scaleAttnByInverseLayerIdx)"),
            ("scale_attn_weights", "\(c.scaleAttnWeights)"),
            ("summary_activation", c.summaryActivation.map { "\"\($0)\"" } ?? "null"),
            ("summary_first_dropout", "0.1"), ("summary_proj_to_labels", "\(c.summaryProjToLabels)"),
            ("summary_type", "\"\(c.summaryType)\""), ("summary_use_proj", "\(c.summaryUseProj)"),
            ("tie_word_embeddings", "\(c.tieWordEmbeddings)"),
            ("transformers_version", "\"4.57.1\""), ("use_cache", "true"), ("vocab_size", "\(c.vocabSize)"),
        ]
        if let p = c.problemType { fields.append(("problem_type", "\"\(p)\"")) }
        for (k, v) in extra {
            if let i = fields.firstIndex(where: { $0.0 == k }) { fields[i].1 = v } else { fields.append((k, v)) }
        }
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    /// Writes config.json and the weights for `config` into `directory` (created if needed).
    /// `configOverride` replaces the config.json text (for inconsistent-config tests).
    public static func write(config c: GPT2Config, to directory: String, options o: Options = Options(),
                             configText: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeFile(configText ?? configJSON(c), to: directory + "/config.json")

        let prefix = o.layout == .prefixed ? "transformer." : ""
        var tensors: [(name: String, key: String, shape: [Int], dtype: String)] = []
        for (key, shape) in bodyShapes(c) where !o.omit.contains(key) {
            tensors.append((prefix + key, key, o.shapeOverrides[key] ?? shape, o.dtype))
            if o.includeMaskBuffers, key.hasSuffix(".ln_1.bias") {
                let layer = key.dropLast(".ln_1.bias".count)
                tensors.append((prefix + layer + ".attn.bias", layer + ".attn.bias", [1, 1, c.nPositions, c.nPositions], "F32"))
                tensors.append((prefix + layer + ".attn.masked_bias", layer + ".attn.masked_bias", [], "F32"))
            }
        }
        for (key, shape) in o.extraBody.sorted(by: { $0.key < $1.key }) { tensors.append((prefix + key, key, shape, o.dtype)) }
        if o.includeLMHead { tensors.append(("lm_head.weight", "lm_head.weight", [c.vocabSize, c.nEmbd], o.dtype)) }
        for (key, shape) in o.heads.sorted(by: { $0.key < $1.key }) { tensors.append((key, key, shape, o.dtype)) }

        func encodeTensor(_ t: (name: String, key: String, shape: [Int], dtype: String), into w: inout SafeTensorsWriter) {
            let n = t.shape.reduce(1, *)
            if t.key.hasSuffix("attn.bias") && t.shape.count == 4 {
                let p = t.shape[3]
                w.add(t.name, shape: t.shape, floats: (0..<n).map { ($0 % p) <= ($0 / p) % p ? 1 : 0 })
            } else if t.key.hasSuffix("attn.masked_bias") {
                w.add(t.name, shape: t.shape, floats: [-1e4])
            } else if ["F32", "F16", "BF16", "F64"].contains(t.dtype) {
                w.add(t.name, shape: t.shape, floats: values(for: t.key, count: n), dtype: t.dtype)
            } else {
                let size = ["I64": 8, "U64": 8, "I32": 4, "U32": 4, "I16": 2, "U16": 2][t.dtype] ?? 1
                w.add(t.name, dtype: t.dtype, shape: t.shape, bytes: [UInt8](repeating: 0, count: n * size))
            }
        }

        if o.shards <= 1 {
            var w = SafeTensorsWriter()
            for t in tensors { encodeTensor(t, into: &w) }
            try w.write(to: directory + "/model.safetensors", extraHeaderSpaces: o.extraHeaderSpaces)
            return
        }
        let per = (tensors.count + o.shards - 1) / o.shards
        var weightMap: [(String, String)] = []
        var total = 0
        for s in 0..<o.shards {
            let name = String(format: "model-%05d-of-%05d.safetensors", s + 1, o.shards)
            var w = SafeTensorsWriter()
            for t in tensors.dropFirst(s * per).prefix(per) {
                encodeTensor(t, into: &w)
                weightMap.append((t.name, name))
            }
            total += w.data().count
            try w.write(to: directory + "/" + name, extraHeaderSpaces: o.extraHeaderSpaces)
        }
        let map = weightMap.sorted(by: { $0.0 < $1.0 }).map { "    \"\($0.0)\": \"\($0.1)\"" }.joined(separator: ",\n")
        try writeFile("{\n  \"metadata\": {\n    \"total_size\": \(total)\n  },\n  \"weight_map\": {\n\(map)\n  }\n}\n",
                      to: directory + "/model.safetensors.index.json")
    }
}

extension TinyCheckpoint {
    /// Writes a full-size F32 checkpoint (e.g. GPT2Config.gpt2 → ~500 MB, bare keys) by streaming
    /// each tensor's bytes to disk; values are a cheap deterministic pattern, not `values(for:)`.
    /// For manual load-time measurements, not for the test suite.
    public static func writeLarge(config c: GPT2Config, to directory: String, dtype: String = "F32") throws {
        let size = dtype == "F32" ? 4 : 2
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeFile(configJSON(c), to: directory + "/config.json")
        let shapes = bodyShapes(c)
        // Offsets must reflect real sizes: build the header text by hand.
        var parts = ["\"__metadata__\":{\"format\":\"pt\"}"]
        var offset = 0
        for (key, shape) in shapes {
            let n = shape.reduce(1, *) * size
            parts.append("\"\(key)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + n)]}")
            offset += n
        }
        let path = directory + "/model.safetensors"
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(SafeTensorsWriter.fileBytes(header: "{" + parts.joined(separator: ",") + "}", data: [])))
        for (_, shape) in shapes {
            let n = shape.reduce(1, *)
            var chunk = [Float](repeating: 0, count: n)
            for i in 0..<n { chunk[i] = Float(i % 1000) * 1e-3 - 0.5 }
            if dtype == "F32" {
                try handle.write(contentsOf: chunk.withUnsafeBytes { Data($0) })
            } else {
                let bits = chunk.map { dtype == "F16" ? Float16($0).bitPattern : SafeTensorsWriter.bf16Bits($0) }
                try handle.write(contentsOf: bits.withUnsafeBytes { Data($0) })
            }
        }
    }
}
