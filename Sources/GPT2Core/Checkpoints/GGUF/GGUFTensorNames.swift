// GGUFTensorNames — llama.cpp's GPT-2 tensor names (gguf-py's tensor map for MODEL_ARCH.GPT2, as
// convert_hf_to_gguf.py's GPT2Model writes them) → the PyTorch keys the loader plans with, and the
// shapes the config implies. The four block matrices are written transposed from transformers'
// Conv1D [in, out] to [out, in] (numpy order; ggml's ne0 = in), so every GGUF matrix is
// output-major: `conv1D` marks the ones whose PyTorch layout is the transpose of the file's.
//   token_embd.weight → wte.weight             position_embd.weight → wpe.weight
//   output_norm.{weight,bias} → ln_f.*         output.weight → lm_head.weight (absent when tied)
//   blk.N.attn_norm → h.N.ln_1                 blk.N.attn_qkv → h.N.attn.c_attn
//   blk.N.attn_output → h.N.attn.c_proj        blk.N.ffn_norm → h.N.ln_2
//   blk.N.ffn_up → h.N.mlp.c_fc                blk.N.ffn_down → h.N.mlp.c_proj

enum GGUFTensorNames {
    static let topLevel = [
        "token_embd.weight": "wte.weight", "position_embd.weight": "wpe.weight", "output_norm.weight": "ln_f.weight",
        "output_norm.bias": "ln_f.bias", "output.weight": "lm_head.weight",
    ]
    static let blockParts = [
        "attn_norm": "ln_1", "attn_qkv": "attn.c_attn", "attn_output": "attn.c_proj",
        "ffn_norm": "ln_2", "ffn_up": "mlp.c_fc", "ffn_down": "mlp.c_proj",
    ]
    /// Block parts whose weight is a Conv1D matrix in PyTorch.
    static let conv1DParts: Set<String> = ["attn_qkv", "attn_output", "ffn_up", "ffn_down"]

    /// The PyTorch key of a GGUF tensor and whether its PyTorch layout is the file's transposed;
    /// nil for a name GPT-2 does not use (ignored, as the loader ignores unused keys).
    static func pytorchKey(_ name: String) -> (key: String, conv1D: Bool)? {
        if let key = topLevel[name] { return (key, false) }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let n = Int(parts[1]), n >= 0, String(n) == parts[1],
              let part = blockParts[String(parts[2])], parts[3] == "weight" || parts[3] == "bias" else { return nil }
        return ("h.\(n).\(part).\(parts[3])", parts[3] == "weight" && conv1DParts.contains(String(parts[2])))
    }

    /// The first GGUF name a model of `c` needs that `has` says is missing (output.weight only when
    /// untied), nil when none is. Stops at the first: block_count may be far larger than the file.
    static func firstMissing(_ c: GPT2Config, has: (String) -> Bool) -> String? {
        var top = ["token_embd.weight", "position_embd.weight", "output_norm.weight", "output_norm.bias"]
        if !c.tieWordEmbeddings { top.append("output.weight") }
        if let name = top.first(where: { !has($0) }) { return name }
        let parts = blockParts.keys.sorted()
        for l in 0..<c.nLayer {
            for part in parts {
                for suffix in ["weight", "bias"] where !has("blk.\(l).\(part).\(suffix)") { return "blk.\(l).\(part).\(suffix)" }
            }
        }
        return nil
    }

    /// The numpy-order shape (GGUF dims reversed) `c` implies for PyTorch key `key`, nil when unknown.
    static func expectedShape(_ key: String, _ c: GPT2Config) -> [Int]? {
        let C = c.nEmbd, F = c.nInner
        switch key {
        case "wte.weight", "lm_head.weight": return [c.vocabSize, C]
        case "wpe.weight": return [c.nPositions, C]
        case "ln_f.weight", "ln_f.bias": return [C]
        default: break
        }
        guard let (_, rest) = CheckpointLoader.splitLayerKey(key) else { return nil }
        switch rest {
        case "ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "attn.c_proj.bias", "mlp.c_proj.bias": return [C]
        case "attn.c_attn.weight": return [3 * C, C]
        case "attn.c_attn.bias": return [3 * C]
        case "attn.c_proj.weight": return [C, C]
        case "mlp.c_fc.weight": return [F, C]
        case "mlp.c_fc.bias": return [F]
        case "mlp.c_proj.weight": return [C, F]
        default: return nil
        }
    }

    /// True for the PyTorch keys that are weight matrices (served in the model's weight type).
    static func isMatrix(_ key: String) -> Bool {
        key == "wte.weight" || key == "lm_head.weight"
            || (CheckpointLoader.splitLayerKey(key).map { ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"].contains($0.rest) } ?? false)
    }
}
