// CheckpointLoader+GGUF — where a GGUF model is found and how it is served.
//
// Which file (what llama.cpp and Ollama users have is one self-contained .gguf file):
//   - a model path that is a regular file ending in ".gguf" is read directly;
//   - a directory is read as GGUF only when it holds none of `weightFileKinds` (safetensors,
//     pytorch_model.bin, tf_model.h5, flax_model.msgpack or their shard indexes — they come first,
//     with its config.json)
//     and exactly one *.gguf file; several are refused (name the file instead).
// The file's metadata is the config: a config.json beside it is not read (transformers'
// `from_pretrained(…, gguf_file=…)` also builds the config from the file).
//
// Served type (LoadOptions.weightType nil): each weight matrix in its own precision — Q4_0 as q4
// (repacked exactly, GGUFQ4Repack), F32 / F16 / BF16 as stored (16-bit ones as views, exactly as
// safetensors), Q8_0 / Q6_K as their F32 dequantized values, bit-identical to ggml's (gpt2d has no
// packed form of either). llama-quantize's Q4_0 files keep token_embd in Q6_K, so such a file is
// served with q4 blocks and an F32 embedding; `weightType` reports the blocks' type. A weight type
// asked for converts every matrix from those values as for any checkpoint (q4 keeps the Q4_0 ones
// exact). The quantized-weight cache is not used: Q4_0 is repacked at memory speed and the others
// have no packed form to cache.

import Foundation

extension CheckpointLoader {
    static let ggufSuffix = ".gguf"

    /// The GGUF file `path` names (see above), nil when it is not a GGUF model. Throws for a
    /// directory holding several .gguf files and nothing else.
    static func ggufFile(modelPath path: String, isDirectory: Bool) throws -> String? {
        guard isDirectory else { return path.hasSuffix(ggufSuffix) ? path : nil }
        let fm = FileManager.default
        if weightFileKinds.contains(where: { k in
            fm.fileExists(atPath: path + "/" + k.single) || fm.fileExists(atPath: path + "/" + k.index)
        }) { return nil }
        let found = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(ggufSuffix) }.sorted()
        guard found.count <= 1 else {
            throw CheckpointError.cannotOpen(path: path, reason: "it holds \(found.count) .gguf files (\(found.joined(separator: ", "))); give the path of the one to serve")
        }
        return found.first.map { path + "/" + $0 }
    }

    /// Loads the GGUF file at `path` (see above).
    static func loadGGUF(path: String, options: LoadOptions,
                         formats: [WeightType: any PackedMatrix.Type]) throws -> (config: GPT2Config, weights: GPT2Weights) {
        let early = options.weightType == nil
        let file = try GGUFFile.open(path: path, preload: options.preload && early, lockInMemory: options.lockInMemory && early)
        let ownQ4 = formats[.q4].map { ObjectIdentifier($0) == ObjectIdentifier(Q4Matrix.self) } ?? false
        let wantQ4 = ownQ4 && (options.weightType == nil || options.weightType == .q4)
        let checkpoint = try GGUFCheckpoint(file: file, wantQ4: wantQ4, lockInMemory: options.lockInMemory && early)
        var served = options
        served.cacheDirectory = nil
        let weights = try assemble(config: checkpoint.config, files: checkpoint.tables, directory: path, options: served,
                                   formats: formats, format: .gguf, prebuilt: checkpoint.q4)
        weights.embeddedTokenizer = checkpoint.tokenizer
        // A file truncated or rewritten while it was read gives zeros (CFaultGuard), never SIGBUS.
        if file.mapping.isDamaged || file.mapping.fileChanged() {
            throw CheckpointError.cannotOpen(path: path, reason: "the file shrank or changed while it was loaded")
        }
        return (checkpoint.config, weights)
    }
}
