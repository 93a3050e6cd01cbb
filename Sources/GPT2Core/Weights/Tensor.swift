// Tensor — a named, shaped, read-only view of a parameter whose memory lives elsewhere (a read-only
// file mapping, an owned arena, or a PackedMatrix object). The owner keeps the memory alive; a
// Tensor never frees anything. Its values are in one `WeightStorage` format: F32 for every small
// vector; for a weight matrix, the model's weight type. There is never a second (F32) copy.

/// Row-major view. `shape` is in elements, outermost first (the checkpoint's layout).
public struct Tensor: @unchecked Sendable {
    /// Checkpoint key, normalised (no `transformer.` prefix), e.g. "h.0.attn.c_attn.weight".
    public let name: String
    public let shape: [Int]
    /// How the values are stored.
    public let storage: WeightStorage

    /// An F32 tensor.
    public init(name: String, shape: [Int], data: UnsafePointer<Float>) {
        self.name = name; self.shape = shape; self.storage = .f32(data)
    }

    /// A tensor in any storage. A packed matrix of a 2-D tensor must hold (shape[0], shape[1]) or,
    /// for a Conv1D weight, (shape[1], shape[0]) — output-major either way.
    public init(name: String, shape: [Int], storage: WeightStorage) {
        self.name = name; self.shape = shape; self.storage = storage
    }

    /// The F32 values. Only for F32 storage (every small vector; matrices of a float32 model) — a
    /// 16-bit or packed matrix has no F32 values (read it with Matmul, `copyRow` or `floats()`).
    public var data: UnsafePointer<Float> {
        switch storage {
        case .f32(let p): return p
        case .half: preconditionFailure("\(name) is stored in 16 bits: it has no F32 values")
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

    /// Number of elements (product of shape).
    public var count: Int { shape.reduce(1, *) }
    /// The F32 values as a buffer (F32 storage only, as `data`).
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: data, count: count) }

    /// True when both tensors read the same memory (e.g. wte and a tied LM head).
    public func sharesStorage(with other: Tensor) -> Bool {
        switch (storage, other.storage) {
        case let (.f32(a), .f32(b)): return a == b
        case let (.half(a), .half(b)): return a.data == b.data
        case let (.packed(a), .packed(b)): return a === b
        default: return false
        }
    }

    /// Row r (shape[1] values) of a 2-D tensor, widened to F32 into `dst`: the token-embedding
    /// lookup. For a packed matrix, row r of its output-major rows (the same row for wte's [V, C]).
    @inline(__always)
    public func copyRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        let width = shape[1]
        switch storage {
        case .f32(let p): dst.update(from: p + r * width, count: width)
        case .half(let h): h.widen(from: r * width, count: width, into: dst)
        case .packed(let p): p.dequantizeRow(r, into: dst)
        }
    }

    /// Every value widened to F32, row-major in `shape` (for tests and tools; allocates). A packed
    /// matrix gives its output-major rows (outputs × inputs) as `multiply` uses them.
    public func floats() -> [Float] {
        switch storage {
        case .f32(let p): return Array(UnsafeBufferPointer(start: p, count: count))
        case .half(let h):
            return [Float](unsafeUninitializedCapacity: count) { buf, n in
                if let base = buf.baseAddress { h.widen(from: 0, count: count, into: base) }
                n = count
            }
        case .packed(let p):
            return [Float](unsafeUninitializedCapacity: p.outputs * p.inputs) { buf, n in
                if let base = buf.baseAddress { for j in 0..<p.outputs { p.dequantizeRow(j, into: base + j * p.inputs) } }
                n = p.outputs * p.inputs
            }
        }
    }
}
