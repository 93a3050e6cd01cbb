// Tensor — a named, shaped, read-only view of F32 values that live elsewhere
// (in a read-only file mapping for F32 checkpoints, or in an owned buffer converted
// from F16/BF16, then with a 16-bit view of the stored values as well). The owner keeps the
// memory alive; a Tensor never frees anything.

/// Row-major F32 view. `shape` is in elements, outermost first.
public struct Tensor: @unchecked Sendable {
    /// Checkpoint key, normalised (no `transformer.` prefix), e.g. "h.0.attn.c_attn.weight".
    public let name: String
    public let shape: [Int]
    public let data: UnsafePointer<Float>
    /// For an F16/BF16 checkpoint: the stored 16-bit values (in the file mapping) that `data`
    /// was converted from, for kernels that widen them on the fly; nil otherwise.
    public let half: HalfView?

    public init(name: String, shape: [Int], data: UnsafePointer<Float>, half: HalfView? = nil) {
        self.name = name; self.shape = shape; self.data = data; self.half = half
    }

    /// The same tensor without its 16-bit view (only the F32 values are used).
    public var withoutHalf: Tensor { Tensor(name: name, shape: shape, data: data) }

    /// Number of elements (product of shape).
    public var count: Int { shape.reduce(1, *) }
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: data, count: count) }
}
