// GPT2Config+JSON — reads config.json the way transformers' GPT2Config/PretrainedConfig does:
// same key names, same defaults, attribute_map aliases (hidden_size, num_hidden_layers,
// num_attention_heads, max_position_embeddings) as fallbacks. Keys that do not change the
// math (dropouts, initializer_range, use_cache, task_specific_params, ...) are ignored.
//
// Deliberate deviation (lead's brief): when n_positions is absent, legacy n_ctx is used before
// the default 1024. transformers ignores n_ctx entirely.

import Foundation
import GPT2Bounds
import GPT2JSON

extension GPT2Config {
    /// Reads and validates `path` (a config.json: a regular file of at most
    /// `RegularFile.Caps.configFile` bytes). Throws `CheckpointError`.
    public static func load(path: String) throws -> GPT2Config {
        let data: Data
        do throws(RegularFileError) { data = Data(try RegularFile.read(path, limit: RegularFile.Caps.configFile)) } catch {
            throw CheckpointError(error)
        }
        return try parse(data, file: path)
    }

    /// Parses config.json text; `file` names the source in errors.
    public static func parse(_ data: Data, file: String) throws -> GPT2Config {
        let json: JSON
        do { json = try CheckpointJSON.parse(data) } catch {
            throw CheckpointError.configInvalid(file: file, field: "(file)", reason: "is not valid JSON: \(error.reason)")
        }
        guard case .object = json else {
            throw CheckpointError.configInvalid(file: file, field: "(file)", reason: "is a JSON \(json.checkpointTypeName), expected an object")
        }
        let r = ConfigReader(json: json, file: file)
        var c = GPT2Config()

        c.vocabSize = try r.int("vocab_size") ?? 50257
        c.nPositions = try r.int("n_positions") ?? r.int("max_position_embeddings") ?? r.int("n_ctx") ?? 1024
        c.nEmbd = try r.int("n_embd") ?? r.int("hidden_size") ?? 768
        c.nLayer = try r.int("n_layer") ?? r.int("num_hidden_layers") ?? 12
        c.nHead = try r.int("n_head") ?? r.int("num_attention_heads") ?? 12
        // 4 × an absurd n_embd would overflow; Int.max then stands for "too large" and validate names n_embd.
        let (fourWidths, overflow) = c.nEmbd.multipliedReportingOverflow(by: 4)
        c.nInner = try r.int("n_inner") ?? (overflow ? Int.max : fourWidths)
        c.layerNormEpsilon = try r.float("layer_norm_epsilon") ?? 1e-5
        if let name = try r.string("activation_function") {
            guard let a = Activation(rawValue: name) else {
                throw CheckpointError.configInvalid(file: file, field: "activation_function",
                    reason: "has unknown value \"\(name)\" (known: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            c.activation = a
        } else {
            c.activation = .geluNew
        }
        c.scaleAttnWeights = try r.bool("scale_attn_weights") ?? true
        c.scaleAttnByInverseLayerIdx = try r.bool("scale_attn_by_inverse_layer_idx") ?? false
        c.reorderAndUpcastAttn = try r.bool("reorder_and_upcast_attn") ?? false
        c.tieWordEmbeddings = try r.bool("tie_word_embeddings") ?? true
        c.bosTokenId = try r.tokenId("bos_token_id", default: 50256)
        c.eosTokenId = try r.tokenId("eos_token_id", default: 50256)
        c.padTokenId = try r.tokenId("pad_token_id", default: nil)

        // Labels: id2label (string keys) wins; else num_labels → LABEL_i; else 2 labels.
        if let id2label = try r.id2label() {
            c.id2label = id2label
        } else {
            let n = try r.int("num_labels") ?? 2
            guard n >= 0 else { throw CheckpointError.configInvalid(file: file, field: "num_labels", reason: "is \(n), must be ≥ 0") }
            guard n <= maxGeneratedLabels else {
                throw CheckpointError.configInvalid(file: file, field: "num_labels",
                    reason: "is \(n), more than \(maxGeneratedLabels) labels without an id2label")
            }
            c.id2label = Dictionary(uniqueKeysWithValues: (0..<n).map { ($0, "LABEL_\($0)") })
        }
        c.label2id = try r.label2id() ?? Dictionary(c.id2label.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })

        c.architectures = try r.stringArray("architectures") ?? []
        c.problemType = try r.string("problem_type")
        if let p = c.problemType, !["regression", "single_label_classification", "multi_label_classification"].contains(p) {
            throw CheckpointError.configInvalid(file: file, field: "problem_type",
                reason: "has unknown value \"\(p)\" (known: regression, single_label_classification, multi_label_classification)")
        }
        c.summaryType = try r.string("summary_type") ?? "cls_index"
        c.summaryUseProj = try r.bool("summary_use_proj") ?? true
        c.summaryActivation = try r.string("summary_activation")
        c.summaryProjToLabels = try r.bool("summary_proj_to_labels") ?? true

        try c.validate(file: file)
        return c
    }

    /// The largest size accepted (vocab_size, n_positions, n_embd, n_layer, n_head, n_inner): 2^24, far
    /// above any GPT-2 (50,257 / 1,024 / 1,600 / 48 / 25 / 6,400), so a product of two sizes (a weight's
    /// element count) or 4 × n_embd never overflows Int.
    public static let maxDimension = 1 << 24
    /// The largest num_labels without an id2label (one "LABEL_i" name is made for each): 2^16.
    public static let maxGeneratedLabels = 1 << 16

    /// Checks the invariants the forward pass relies on; throws `.configInvalid` naming the field.
    public func validate(file: String) throws {
        func size(_ v: Int, _ field: String) throws {
            guard v > 0 else { throw CheckpointError.configInvalid(file: file, field: field, reason: "is \(v), must be positive") }
            guard v <= Self.maxDimension else {
                throw CheckpointError.configInvalid(file: file, field: field, reason: "is \(v), more than \(Self.maxDimension)")
            }
        }
        try size(vocabSize, "vocab_size")
        try size(nPositions, "n_positions")
        try size(nEmbd, "n_embd")
        try size(nLayer, "n_layer")
        try size(nHead, "n_head")
        try size(nInner, "n_inner")
        guard nEmbd % nHead == 0 else {
            throw CheckpointError.configInvalid(file: file, field: "n_head",
                reason: "is \(nHead), which does not divide n_embd \(nEmbd)")
        }
        guard layerNormEpsilon.isFinite, layerNormEpsilon >= 0 else {
            throw CheckpointError.configInvalid(file: file, field: "layer_norm_epsilon", reason: "is \(layerNormEpsilon), must be finite and ≥ 0")
        }
    }
}

/// Typed field access over a config object; every failure names the field.
private struct ConfigReader {
    let json: JSON
    let file: String

    func invalid(_ field: String, _ reason: String) -> CheckpointError {
        .configInvalid(file: file, field: field, reason: reason)
    }

    /// nil when absent or null.
    func value(_ key: String) -> JSON? {
        guard let v = json[key], !v.isNull else { return nil }
        return v
    }

    func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.integralInt else { throw invalid(key, "must be an integer, found \(describe(v))") }
        return i
    }

    func float(_ key: String) throws -> Float? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue else { throw invalid(key, "must be a number, found \(describe(v))") }
        return Float(d)
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard case let .bool(b) = v else { throw invalid(key, "must be true or false, found \(describe(v))") }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard case let .string(s) = v else { throw invalid(key, "must be a string, found \(describe(v))") }
        return s
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        guard case let .array(items) = v else { throw invalid(key, "must be an array of strings, found \(describe(v))") }
        return try items.map {
            guard case let .string(s) = $0 else { throw invalid(key, "must be an array of strings, found an element \(describe($0))") }
            return s
        }
    }

    /// An integer id, or a list of ids (some configs list several eos ids): the first is used.
    /// Absent → `default`; explicit null → nil.
    func tokenId(_ key: String, default def: Int?) throws -> Int? {
        guard let v = json[key] else { return def }
        switch v {
        case .null: return nil
        case .array(let items):
            guard let first = items.first else { return nil }
            guard let i = first.integralInt else { throw invalid(key, "must be an integer or a list of integers, found \(describe(v))") }
            return i
        default:
            guard let i = v.integralInt else { throw invalid(key, "must be an integer or a list of integers, found \(describe(v))") }
            return i
        }
    }

    /// `id2label` with string keys ("0", "1", ...) → [Int: String].
    func id2label() throws -> [Int: String]? {
        guard let v = value("id2label") else { return nil }
        guard case let .object(members) = v else { throw invalid("id2label", "must be an object, found \(describe(v))") }
        var out: [Int: String] = [:]
        for (k, label) in members {
            guard let i = Int(k), i >= 0 else { throw invalid("id2label", "has key \"\(k)\", which is not a non-negative integer") }
            guard case let .string(s) = label else { throw invalid("id2label", "value for \"\(k)\" must be a string, found \(describe(label))") }
            guard out.updateValue(s, forKey: i) == nil else { throw invalid("id2label", "has index \(i) twice") }
        }
        return out
    }

    func label2id() throws -> [String: Int]? {
        guard let v = value("label2id") else { return nil }
        guard case let .object(members) = v else { throw invalid("label2id", "must be an object, found \(describe(v))") }
        var out: [String: Int] = [:]
        for (k, id) in members {
            guard let i = id.integralInt else { throw invalid("label2id", "value for \"\(k)\" must be an integer, found \(describe(id))") }
            out[k] = i
        }
        return out
    }

    func describe(_ v: JSON) -> String {
        switch v {
        case .int(let i): return "number \(i)"
        case .double(let d): return "number \(d)"
        case .string(let s): return "string \"\(s)\""
        case .bool(let b): return "\(b)"
        default: return v.checkpointTypeName
        }
    }
}
