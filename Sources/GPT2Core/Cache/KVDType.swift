// KVDType — the element type a KVBlockPool stores keys and values in.
//
// float32 keeps them exactly as computed (the default). float16 and bfloat16 halve KV memory per
// token: keys and values are rounded to nearest even when stored and widened (exactly) to F32 when
// attention reads them, so attention computes in F32 on the rounded values. float16 keeps 11
// significant bits over ±65504 (GPT-2's keys and values lie far inside that range); bfloat16 keeps
// 8 bits over F32's whole range.
import CKernels

public enum KVDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float16, bfloat16

    /// Bytes per stored element.
    public var bytes: Int { self == .float32 ? 4 : 2 }

    /// The CKernels element kind (CK_KV_F32, CK_HALF_F16, CK_HALF_BF16).
    var ckKind: Int32 {
        switch self {
        case .float32: return CK_KV_F32
        case .float16: return CK_HALF_F16
        case .bfloat16: return CK_HALF_BF16
        }
    }

    public var description: String { rawValue }

    /// CKernels' AVX2 conversions and decode attention run (AVX2 + FMA + F16C, and GPT2D_ISA does
    /// not say plain); else their portable C versions.
    static let simd: Bool = ck_isa() >= CK_ISA_AVX2

    /// Stores `count` F32 values at `dst` as elements of this type (rounded to nearest even).
    @inline(__always)
    func store(_ src: UnsafePointer<Float>, to dst: UnsafeMutableRawPointer, count: Int) {
        if self == .float32 { dst.copyMemory(from: src, byteCount: 4 * count) }
        else if KVDType.simd { ck_kv_store(src, dst, count, ckKind) }
        else { ck_kv_store_portable(src, dst, count, ckKind) }
    }

    /// Widens `count` elements of this type at `src` into F32 values at `dst` (exact).
    @inline(__always)
    func load(_ src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count: Int) {
        if self == .float32 { UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count) }
        else if KVDType.simd { ck_kv_load(src, dst, count, ckKind) }
        else { ck_kv_load_portable(src, dst, count, ckKind) }
    }
}
