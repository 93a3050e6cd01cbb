// ParameterNames — a Flax parameter path or a Keras weight name as the PyTorch state-dict key the
// loader knows, with the renaming transformers' own converters apply (modeling_flax_pytorch_utils,
// modeling_tf_pytorch_utils):
//   Flax  transformer/h/0/attn/c_attn/kernel        → transformer.h.0.attn.c_attn.weight
//   Flax  transformer/ln_f/scale, …/wte/embedding   → transformer.ln_f.weight, transformer.wte.weight
//   Keras transformer/h_._0/attn/c_attn/weight:0    → transformer.h.0.attn.c_attn.weight
//   Keras …/ln_1/gamma:0, …/beta:0, …/embeddings:0  → ….ln_1.weight, ….ln_1.bias, ….weight
//   Keras score/kernel:0                            → score.weight
// A 2-D `kernel` is the transpose of the PyTorch weight: Flax's FlaxConv1D keeps (out, in) where
// Conv1D keeps (in, out), and a Dense kernel (Flax or Keras) is (in, out) where nn.Linear keeps
// (out, in). Keras' TFConv1D `weight` is (in, out) like Conv1D and is not transposed.

import Foundation

enum ParameterNames {
    /// The PyTorch key of a parameter path, and whether its values are a kernel (the transpose of
    /// the PyTorch weight when 2-D).
    static func pytorchKey(_ components: [String]) -> (key: String, isKernel: Bool) {
        guard let leaf = components.last else { return ("", false) }
        let renamed: String
        switch leaf {
        case "kernel", "scale", "gamma", "embedding", "embeddings": renamed = "weight"
        case "beta": renamed = "bias"
        default: renamed = leaf
        }
        // Keras spells a layer list's index as "h_._3".
        let path = components.dropLast().map { $0.replacingOccurrences(of: "_._", with: ".") } + [renamed]
        return (path.joined(separator: "."), leaf == "kernel")
    }
}
