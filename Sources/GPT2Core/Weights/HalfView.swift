// HalfView — where a matrix's values lie as 16-bit floats (F16 or BF16): in a checkpoint's read-only
// file mapping (served in the checkpoint's own type) or in an owned arena (narrowed at load). Every
// product reads them directly — the small-M kernels and the packed GEMM (CKernels *_w16) widen them
// to the identical F32 values in registers or while packing; the portable path widens panels.
import CKernels

/// Row-major 16-bit elements in the tensor's shape, little-endian. `data` may be only 2-byte
/// aligned (or not at all): readers use unaligned loads. The weights' storage keeps it alive.
public struct HalfView: @unchecked Sendable {
    public enum Kind: Sendable {
        case f16   // IEEE binary16
        case bf16  // the top 16 bits of an F32

        /// The CKernels kind constant (CK_HALF_F16 / CK_HALF_BF16).
        var ckKind: Int32 { self == .f16 ? CK_HALF_F16 : CK_HALF_BF16 }
    }

    public let kind: Kind
    public let data: UnsafeRawPointer
    /// How the products treat the activations (MatmulPrecision); always `.highest` for F16.
    public let precision: MatmulPrecision

    public init(kind: Kind, data: UnsafeRawPointer, precision: MatmulPrecision = .highest) {
        self.kind = kind; self.data = data
        self.precision = kind == .bf16 ? precision : .highest
    }

    /// The same values read at `.highest` precision.
    var exact: HalfView { HalfView(kind: kind, data: data) }

    /// Elements [start, start + count) widened exactly to F32 into `dst`.
    func widen(from start: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        let src = data + 2 * start
        switch kind {
        case .f16: convertF16(src, to: dst, count: count)
        case .bf16: convertBF16(src, to: dst, count: count)
        }
    }
}
