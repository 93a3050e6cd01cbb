// GGUFConfig — a GGUF file's metadata → GPT2Config, as llama.cpp's GPT-2 loader reads it:
//   general.architecture                 must be "gpt2" (else CheckpointError.wrongArchitecture)
//   gpt2.context_length                  n_positions
//   gpt2.embedding_length                n_embd
//   gpt2.block_count                     n_layer
//   gpt2.attention.head_count            n_head
//   gpt2.feed_forward_length             n_inner (default 4·n_embd)
//   gpt2.attention.layer_norm_epsilon    layer_norm_epsilon (default 1e-5)
//   token_embd.weight's ne1              vocab_size
//   output.weight present                tie_word_embeddings false (llama.cpp ties when it is absent)
//   tokenizer.ggml.bos/eos_token_id      bos_token_id / eos_token_id
// Activation gelu_new (llama.cpp's GPT-2 graph uses the tanh GELU), attention scaled by 1/√head_dim,
// no head classes. The result passes GPT2Config.validate, so every size is positive and ≤ 2^24.

enum GGUFConfig {
    static func config(_ f: GGUFFile) throws -> GPT2Config {
        guard let arch = try f.string("general.architecture") else {
            throw CheckpointError.badGGUF(file: f.path, reason: "no general.architecture (not a llama.cpp model file)")
        }
        guard arch == "gpt2" else { throw CheckpointError.wrongArchitecture(file: f.path, found: arch) }
        func required(_ key: String) throws -> Int {
            guard let v = try f.count("gpt2." + key) else { throw CheckpointError.badGGUF(file: f.path, reason: "no gpt2.\(key)") }
            return v
        }
        guard let embedding = f.tensor("token_embd.weight") else {
            throw CheckpointError.missingTensor(tensor: "token_embd.weight", directory: f.path)
        }
        guard embedding.dims.count == 2 else {
            throw CheckpointError.badGGUF(file: f.path, reason: "token_embd.weight has dims \(embedding.dims), expected [n_embd, n_vocab]")
        }
        let nEmbd = try required("embedding_length")
        let epsilon = try f.float("gpt2.attention.layer_norm_epsilon") ?? 1e-5
        let eos = try f.count("tokenizer.ggml.eos_token_id")
        let c = GPT2Config(
            vocabSize: embedding.dims[1], nPositions: try required("context_length"), nEmbd: nEmbd,
            nLayer: try required("block_count"), nHead: try required("attention.head_count"),
            nInner: try f.count("gpt2.feed_forward_length") ?? 4 * min(nEmbd, GPT2Config.maxDimension),
            layerNormEpsilon: Float(epsilon), activation: .geluNew, tieWordEmbeddings: f.tensor("output.weight") == nil,
            bosTokenId: try f.count("tokenizer.ggml.bos_token_id") ?? eos, eosTokenId: eos,
            architectures: ["GPT2LMHeadModel"])
        try c.validate(file: f.path)
        return c
    }
}
