// Tensor — a named, shaped, read-only view of F32 values that live elsewhere
// (in a read-only file mapping for F32 checkpoints, or in an owned buffer converted
// from F16/BF16). The owner keeps the memory alive; a Tensor never frees anything.

/// Row-major F32 view. `shape` is in elements, outermost first.
public struct Tensor: @unchecked Sendable {
    /// Checkpoint key, normalised (no `transformer.` prefix), e.g. "h.0.attn.c_attn.weight".
    public let name: String
    public let shape: [Int]
    public let data: UnsafePointer<Float>

    public init(name: String, shape: [Int], data: UnsafePointer<Float>) {
        self.name = name; self.shape = shape; self.data = data
    }

    /// Number of elements (product of shape).
    public var count: Int { shape.reduce(1, *) }
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: data, count: count) }
}
