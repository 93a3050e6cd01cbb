// Matmul — the only importer of CBLAS. Row-major F32 products for the forward pass.
//
// Two weight layouts (REFERENCE 2.3): transformers' Conv1D stores W as [in, out] (y = x·W),
// nn.Linear stores W as [out, in] (y = x·Wᵀ).
//
// With AVX-512 or AVX2 + FMA (`ownKernels`) every product runs on the compute pool (CKernels), with
// OpenBLAS single-threaded:
//  - AVX-512: ≤ 16 rows (decode) stream each weight once for all rows in the small-M kernels; more
//    rows (prefill) use the packed GEMM, which runs at the CPU's full FMA width where OpenBLAS under
//    the environment's OPENBLAS_CORETYPE=Haswell uses AVX2.
//  - AVX2 + FMA: ≤ 16 rows use the AVX2 small-M kernels (the same tiling at 8 lanes), so F32 and
//    16-bit weights still compute identical results; more rows go to OpenBLAS (its Haswell sgemm),
//    one single-threaded call per pool task over a strip of output columns.
// Without either, or with GPT2D_MATMUL=blas, OpenBLAS does them all on its own threads. Weights
// stored as F16/BF16 are read in 16 bits by the small-M kernels; the GEMM and OpenBLAS read the F32 copy.
import CBLAS
import CKernels
import Foundation

public enum Matmul {
    /// True when the compute pool runs every product and loop, with OpenBLAS single-threaded
    /// (AVX-512 or AVX2 + FMA, unless GPT2D_MATMUL=blas; decided once, at start).
    public static let ownKernels: Bool =
        (CPUFeatures.avx512 || CPUFeatures.avx2) && ProcessInfo.processInfo.environment["GPT2D_MATMUL"] != "blas"
    /// True when the project's AVX-512 kernels (packed GEMM, F32 small-M) serve the products.
    public static let packedGEMM: Bool = ownKernels && CPUFeatures.avx512
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

    /// Both layouts: w is [K, N] (row stride N) or, when `transposed`, [N, K] (row stride K).
    @inline(__always)
    private static func product(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int,
                                _ w: UnsafePointer<Float>, half: HalfView?, n: Int, transposed: Bool,
                                _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        let ldw = transposed ? k : n
        if ownKernels {
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
        } else if m == 1 {
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

    /// conv1D with a weight tensor [K, N]: its 16-bit view when it has one, else its F32 values.
    @inline(__always)
    static func conv1D(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil, _ w: Tensor, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        conv1D(x, m: m, k: k, ldx: ldx, w.data, half: w.half, n: n, out, ldo: ldo, beta: beta)
    }

    /// linear with a weight tensor [N, K]: its 16-bit view when it has one, else its F32 values.
    @inline(__always)
    static func linear(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil, _ w: Tensor, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        linear(x, m: m, k: k, ldx: ldx, w.data, half: w.half, n: n, out, ldo: ldo, beta: beta)
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
