// Matmul — the only importer of CBLAS. Row-major products of F32 activations with weight matrices in
// any storage (F32, 16-bit, packed) for the forward pass.
//
// Two weight layouts (REFERENCE 2.3): transformers' Conv1D stores W as [in, out] (y = x·W),
// nn.Linear stores W as [out, in] (y = x·Wᵀ). A packed (quantized) matrix is always output-major and
// computes its own product (PackedMatrix.multiply), for any row count.
//
// Back ends (`Backend`). `.kernels` — AVX-512 or AVX2 + FMA (`ownKernels`): every product runs on
// the compute pool (CKernels), with OpenBLAS single-threaded:
//  - AVX-512: ≤ 16 rows (decode) stream each weight once for all rows in the small-M kernels; more
//    rows (prefill) use the packed GEMM, which widens 16-bit weights exactly while packing (results
//    identical to an F32 copy's) and runs at the CPU's full FMA width where OpenBLAS under the
//    environment's OPENBLAS_CORETYPE=Haswell uses AVX2.
//  - AVX2 + FMA: ≤ 16 rows use the AVX2 small-M kernels (the same tiling at 8 lanes; 16-bit weights
//    widened in registers); more rows go to OpenBLAS (its Haswell sgemm), one single-threaded call
//    per pool task over a strip of output columns — a 16-bit strip widened first into the task's
//    own F32 scratch (HalfFallback).
// `.portable` — neither (or GPT2D_MATMUL=blas, GPT2D_CPU=generic, or a task under `$forcePortable`):
// OpenBLAS does the F32 products (sgemv for one row, sgemm otherwise) and 16-bit weights go through
// HalfFallback's strips for every row count.
import CBLAS
import CKernels
import Foundation

public enum Matmul {
    /// Which implementation computes the products.
    public enum Backend: Sendable, Equatable {
        /// CKernels (AVX-512 or AVX2 + FMA) and single-threaded OpenBLAS per task, on the compute pool.
        case kernels
        /// OpenBLAS for F32, panel widening for 16-bit; packed formats use their plain loops.
        case portable
    }

    /// True when the compute pool runs every product and loop, with OpenBLAS single-threaded
    /// (AVX-512 or AVX2 + FMA, unless GPT2D_MATMUL=blas; decided once, at start).
    public static let ownKernels: Bool =
        (CPUFeatures.avx512 || CPUFeatures.avx2) && ProcessInfo.processInfo.environment["GPT2D_MATMUL"] != "blas"
    /// True when the project's AVX-512 kernels (packed GEMM, F32 small-M) serve the products.
    public static let packedGEMM: Bool = ownKernels && CPUFeatures.avx512

    /// Set for a task (`Matmul.$forcePortable.withValue(true) { … }`) to run that task's products on
    /// the portable back end even where the kernels exist — how tests compare the two.
    @TaskLocal public static var forcePortable = false

    /// The back end products started by the calling task use.
    public static var backend: Backend { ownKernels && !forcePortable ? .kernels : .portable }

    /// Row counts up to this use the streaming small-M kernels; above, the packed GEMM.
    static let smallMaxRows = 16

    /// Threads OpenBLAS may use (process-wide).
    static func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// out[M, N] = beta·out + x[M, K] · w[K, N]   (Conv1D layout, w row-major [in, out]).
    /// `ldx`/`ldo` are row strides in elements (default K / N). beta is 0 or 1.
    /// `half`: the same w stored as F16/BF16 ([K, N], row stride N); with the own kernels, ≤ 16
    /// rows read it instead of w (half the bytes, identical results); everything else reads w.
    @inline(__always)
    static func conv1D(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil,
                       _ w: UnsafePointer<Float>, half: HalfView? = nil, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        product(x, m: m, k: k, ldx: ldx ?? k, w, half: half, n: n, transposed: false, out, ldo: ldo ?? n, beta: beta)
    }

    /// out[M, N] = beta·out + x[M, K] · w[N, K]ᵀ   (Linear layout, w row-major [out, in]). beta is 0 or 1.
    /// `half`: the same w stored as F16/BF16 ([N, K], row stride K), read as in conv1D.
    @inline(__always)
    static func linear(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil,
                       _ w: UnsafePointer<Float>, half: HalfView? = nil, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        product(x, m: m, k: k, ldx: ldx ?? k, w, half: half, n: n, transposed: true, out, ldo: ldo ?? n, beta: beta)
    }

    /// conv1D with a weight tensor [K, N] in whatever storage it has: F32, 16-bit (every row count
    /// reads the 16-bit values), or packed (its own `multiply`; stored output-major [N, K]).
    @inline(__always)
    static func conv1D(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil, _ w: Tensor, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        switch w.storage {
        case .f32(let p): product(x, m: m, k: k, ldx: ldx ?? k, p, half: nil, n: n, transposed: false, out, ldo: ldo ?? n, beta: beta)
        case .half(let h): product(x, m: m, k: k, ldx: ldx ?? k, h, n: n, transposed: false, out, ldo: ldo ?? n, beta: beta)
        case .packed(let p): packed(x, m: m, k: k, ldx: ldx ?? k, p, n: n, out, ldo: ldo ?? n, beta: beta)
        }
    }

    /// linear with a weight tensor [N, K] in whatever storage it has (as conv1D).
    @inline(__always)
    static func linear(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil, _ w: Tensor, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        switch w.storage {
        case .f32(let p): product(x, m: m, k: k, ldx: ldx ?? k, p, half: nil, n: n, transposed: true, out, ldo: ldo ?? n, beta: beta)
        case .half(let h): product(x, m: m, k: k, ldx: ldx ?? k, h, n: n, transposed: true, out, ldo: ldo ?? n, beta: beta)
        case .packed(let p): packed(x, m: m, k: k, ldx: ldx ?? k, p, n: n, out, ldo: ldo ?? n, beta: beta)
        }
    }

    /// F32 w, optionally with its 16-bit twin for the small-M kernels: w is [K, N] (row stride N) or,
    /// when `transposed`, [N, K] (row stride K).
    @inline(__always)
    private static func product(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int,
                                _ w: UnsafePointer<Float>, half: HalfView?, n: Int, transposed: Bool,
                                _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        let ldw = transposed ? k : n
        if backend == .kernels {
            if m <= smallMaxRows, let half {
                (transposed ? ck_matmul_nk_w16_parallel : ck_matmul_kn_w16_parallel)(
                    x, m, k, ldx, half.data, half.kind.ckKind, ldw, n, out, ldo, beta)
            } else if m <= smallMaxRows {
                (transposed ? ck_matmul_nk_parallel : ck_matmul_kn_parallel)(x, m, k, ldx, w, ldw, n, out, ldo, beta)
            } else if packedGEMM {
                ck_gemm_parallel(m, n, k, 1, x, ldx, w, ldw, transposed ? 1 : 0, beta, out, ldo)
            } else {
                blasColumns(x, m: m, k: k, ldx: ldx, w, ldw: ldw, n: n, transposed: transposed, out, ldo: ldo, beta: beta)
            }
        } else {
            blas(x, m: m, k: k, ldx: ldx, w, ldw: ldw, n: n, transposed: transposed, out, ldo: ldo, beta: beta)
        }
    }

    /// 16-bit w only, same layouts: the small-M kernels, the AVX-512 GEMM widening while packing, or
    /// strips widened for OpenBLAS (AVX2 prefill, and every row count on the portable back end);
    /// bfloat16 at matmul precision `medium` through BF16Dot (its kernels, or these paths on rounded rows).
    @inline(__always)
    private static func product(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int,
                                _ w: HalfView, n: Int, transposed: Bool,
                                _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        if w.precision == .medium {
            BF16Dot.product(x, m: m, k: k, ldx: ldx, w, n: n, transposed: transposed, out, ldo: ldo, beta: beta) { xr, ldxr in
                product(xr, m: m, k: k, ldx: ldxr, w.exact, n: n, transposed: transposed, out, ldo: ldo, beta: beta)
            }
            return
        }
        let ldw = transposed ? k : n
        if backend == .kernels {
            if m <= smallMaxRows {
                (transposed ? ck_matmul_nk_w16_parallel : ck_matmul_kn_w16_parallel)(
                    x, m, k, ldx, w.data, w.kind.ckKind, ldw, n, out, ldo, beta)
            } else if packedGEMM {
                ck_gemm_w16_parallel(m, n, k, 1, x, ldx, w.data, w.kind.ckKind, ldw, transposed ? 1 : 0, beta, out, ldo)
            } else {
                HalfFallback.product(x, m: m, k: k, ldx: ldx, w, n: n, transposed: transposed, out, ldo: ldo, beta: beta)
            }
        } else {
            HalfFallback.product(x, m: m, k: k, ldx: ldx, w, n: n, transposed: transposed, out, ldo: ldo, beta: beta)
        }
    }

    /// out[M, N] = beta·out + x[M, K] · Wᵀ for a packed W (N, K): the format's own product.
    @inline(__always)
    private static func packed(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int, _ w: any PackedMatrix, n: Int,
                               _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        precondition(w.inputs == k && w.outputs == n, "packed weight is (\(w.outputs), \(w.inputs)), product wants (\(n), \(k))")
        w.multiply(x, m: m, ldx: ldx, out, ldo: ldo, beta: beta)
    }

    /// OpenBLAS: w is [K, N] or, when `transposed`, [N, K], row stride ldw.
    @inline(__always)
    static func blas(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int, _ w: UnsafePointer<Float>, ldw: Int,
                     n: Int, transposed: Bool, _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        if m == 1 {
            // y[N] = op(w)·x: OpenBLAS's streaming sgemv (row-major Trans of [K, N] is its column-major NoTrans).
            cblas_sgemv(CblasRowMajor, transposed ? CblasNoTrans : CblasTrans, Int32(transposed ? n : k),
                        Int32(transposed ? k : n), 1, w, Int32(ldw), x, 1, beta, out, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, x, Int32(ldx), w, Int32(ldw), beta, out, Int32(ldo))
        }
    }

    /// OpenBLAS (single-threaded here) on the pool: output columns in strips of ≥ 256 (multiples of 16),
    /// one sgemv (one row) or sgemm per task. How a product splits depends only on its shape and the
    /// pool's size, so results are reproducible for a given thread count.
    @inline(__always)
    private static func blasColumns(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int,
                                    _ w: UnsafePointer<Float>, ldw: Int, n: Int, transposed: Bool,
                                    _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        let parts = max(1, min(Parallel.threads, n / 256))
        let step = ((n + parts - 1) / parts + 15) / 16 * 16
        Parallel.forEach((n + step - 1) / step, parallel: parts > 1) { t in
            let c0 = t * step, c = min(n, c0 + step) - c0
            let wc = transposed ? w + c0 * ldw : w + c0  // [N, K]: rows c0...; [K, N]: columns c0...
            if m == 1 {
                cblas_sgemv(CblasRowMajor, transposed ? CblasNoTrans : CblasTrans, Int32(transposed ? c : k),
                            Int32(transposed ? k : c), 1, wc, Int32(ldw), x, 1, beta, out + c0, 1)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasTrans : CblasNoTrans, Int32(m), Int32(c), Int32(k),
                            1, x, Int32(ldx), wc, Int32(ldw), beta, out + c0, Int32(ldo))
            }
        }
    }

    /// Strided product for attention, on the calling thread only (callers spread heads over the
    /// pool when `ownKernels`, and OpenBLAS is then single-threaded; otherwise OpenBLAS threads it):
    /// c[M, N] = alpha · a[M, K] · op(b) + beta · c, with op(b) = bᵀ when `transB` (b is [N, K]) else b ([K, N]).
    @inline(__always)
    static func gemm(m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, lda: Int,
                     _ b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if packedGEMM {
            ck_gemm(m, n, k, alpha, a, lda, b, ldb, transB ? 1 : 0, beta, c, ldc)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
}
