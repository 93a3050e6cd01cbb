// WeightStorage — the one format a weight matrix is held in: F32 values, 16-bit floats (F16/BF16)
// or a packed quantized format (`PackedMatrix`). Matmul dispatches on it; the embedding lookup
// widens one row of it. Small vectors (biases, layer-norm gains, wpe) are always `.f32`.

/// Where a tensor's values live and how they are encoded. The memory belongs to the owner of the
/// weights (GPT2Weights' storage, or the PackedMatrix object itself); a storage never frees anything.
public enum WeightStorage: @unchecked Sendable {
    /// Row-major F32 values in the tensor's shape (a file mapping or an owned buffer).
    case f32(UnsafePointer<Float>)
    /// Row-major 16-bit values in the tensor's shape (the checkpoint mapping or an owned buffer),
    /// widened exactly to F32 in registers or while packing.
    case half(HalfView)
    /// A quantized matrix, always output-major (outputs N, inputs K) whatever the tensor's layout:
    /// for a Conv1D weight of shape [K, N] its rows are the checkpoint's columns.
    case packed(any PackedMatrix)

    /// The format of these values.
    public var weightType: WeightType {
        switch self {
        case .f32: return .float32
        case .half(let h): return h.kind == .f16 ? .float16 : .bfloat16
        case .packed(let p): return type(of: p).weightType
        }
    }
}
