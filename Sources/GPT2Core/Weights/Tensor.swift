// Tensor — a named, shaped, read-only view of a parameter whose memory lives elsewhere (a read-only
// file mapping, an owned buffer, or a PackedMatrix object). The owner keeps the memory alive; a
// Tensor never frees anything. Its values are in one `WeightStorage` format: F32 for every small
// vector, and for a weight matrix the model's weight type.

/// Row-major view. `shape` is in elements, outermost first (the checkpoint's layout).
public struct Tensor: @unchecked Sendable {
    /// Checkpoint key, normalised (no `transformer.` prefix), e.g. "h.0.attn.c_attn.weight".
    public let name: String
    public let shape: [Int]
    /// How the values are stored.
    public let storage: WeightStorage
    /// Transitional: for a 16-bit matrix, the F32 copy the packed GEMM and OpenBLAS still read.
    let widened: UnsafePointer<Float>?

    /// An F32 tensor.
    public init(name: String, shape: [Int], data: UnsafePointer<Float>) {
        self.name = name; self.shape = shape; self.storage = .f32(data); self.widened = nil
    }

    /// A tensor in any storage (`widened`: the F32 copy of a `.half` tensor, while one exists).
    public init(name: String, shape: [Int], storage: WeightStorage, widened: UnsafePointer<Float>? = nil) {
        self.name = name; self.shape = shape; self.storage = storage; self.widened = widened
    }

    /// The F32 values. Only for F32 storage (every small vector; F32 matrices) — a 16-bit or
    /// packed matrix has no F32 values (use `floats()` or Matmul).
    public var data: UnsafePointer<Float> {
        switch storage {
        case .f32(let p): return p
        case .half:
            guard let widened else { preconditionFailure("\(name) is stored in 16 bits: it has no F32 values") }
            return widened
        case .packed: preconditionFailure("\(name) is stored packed: it has no F32 values")
        }
    }

    /// The 16-bit values when stored as F16/BF16, else nil.
    public var half: HalfView? {
        if case .half(let h) = storage { return h }
        return nil
    }

    /// The packed matrix when stored quantized, else nil.
    public var packed: (any PackedMatrix)? {
        if case .packed(let p) = storage { return p }
        return nil
    }

    /// The format the values are stored in.
    public var weightType: WeightType { storage.weightType }

    /// The same tensor as F32 only (a 16-bit matrix keeps just its F32 copy; for comparisons).
    public var withoutHalf: Tensor {
        if case .half = storage, let widened { return Tensor(name: name, shape: shape, data: widened) }
        return self
    }

    /// Number of elements (product of shape).
    public var count: Int { shape.reduce(1, *) }
    /// The F32 values as a buffer (F32 storage only, as `data`).
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: data, count: count) }
}
