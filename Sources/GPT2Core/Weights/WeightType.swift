// WeightType — the element format a model's weight matrices are served in (issue #11).
//
// The checkpoint's own type is the default and computes exactly as before. Any other type is
// produced at load from whatever the checkpoint stores (F32/F16/BF16): 16-bit types by rounding,
// int8/nf4/q4/fp4 by quantization into a `PackedMatrix`. Small vectors (biases, layer-norm gains,
// position embeddings) always stay F32: they are a few MB and every kernel reads them as F32.

/// How the weight matrices of one served model are stored and read.
public enum WeightType: String, CaseIterable, Sendable, CustomStringConvertible {
    /// IEEE binary32, the reference.
    case float32
    /// bfloat16 (top half of a binary32), widened to F32 exactly in registers.
    case bfloat16
    /// IEEE binary16, widened to F32 exactly in registers.
    case float16
    /// 8-bit integers with F32 absmax scales per block along the input dimension.
    case int8
    /// bitsandbytes' NormalFloat4: 16-value code book, 64-value blocks with an absmax scale,
    /// optionally double-quantized scales (8-bit, 256-value blocks).
    case nf4
    /// The project's own 4-bit integer group format (see its PackedMatrix type).
    case q4
    /// bitsandbytes' FP4 (quant_type "fp4"): nf4's blocks and layout with a 4-bit float code book.
    case fp4

    public var description: String { rawValue }

    /// Bits per weight element, ignoring scales.
    public var elementBits: Int {
        switch self {
        case .float32: return 32
        case .bfloat16, .float16: return 16
        case .int8: return 8
        case .nf4, .q4, .fp4: return 4
        }
    }

    /// The type a checkpoint's safetensors dtype string ("F32", "F16", "BF16") names; F32 otherwise.
    public static func stored(dtype: String) -> WeightType {
        switch dtype {
        case "F16": return .float16
        case "BF16": return .bfloat16
        default: return .float32
        }
    }
}
