// HalfView — where a tensor's values also lie as 16-bit floats (F16 or BF16) in a checkpoint's
// read-only file mapping. Decode's small-M products read these instead of the converted F32 copy:
// half the bytes per token, widened to the identical F32 values in registers (CKernels *_w16).
import CKernels

/// The same values as a Tensor's F32 `data`, row-major in the same shape, as little-endian
/// 16-bit elements. `data` may be only 2-byte aligned (or not at all): readers use unaligned loads.
/// The owner of the mapping (GPT2Weights' storage) keeps it alive.
public struct HalfView: @unchecked Sendable {
    public enum Kind: Sendable {
        case f16   // IEEE binary16
        case bf16  // the top 16 bits of an F32

        /// The CKernels kind constant (CK_HALF_F16 / CK_HALF_BF16).
        var ckKind: Int32 { self == .f16 ? CK_HALF_F16 : CK_HALF_BF16 }
    }

    public let kind: Kind
    public let data: UnsafeRawPointer

    public init(kind: Kind, data: UnsafeRawPointer) {
        self.kind = kind; self.data = data
    }
}
