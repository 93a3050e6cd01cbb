// Matmul — the only importer of CBLAS. Row-major F32 products for the forward pass.
//
// Two weight layouts (REFERENCE 2.3): transformers' Conv1D stores W as [in, out] (y = x·W),
// nn.Linear stores W as [out, in] (y = x·Wᵀ). One row (M = 1) goes through sgemv, which
// OpenBLAS streams at memory bandwidth; more rows go through sgemm.
import CBLAS
import CKernels
import Foundation

public enum Matmul {
    /// Row counts in [2, smallMaxRows] use the CKernels streaming kernels when the CPU has AVX-512.
    nonisolated(unsafe) static var smallKernels: Bool = ck_has_avx512() != 0
    static let smallMaxRows = 16
    nonisolated(unsafe) static var smallMinRows = ProcessInfo.processInfo.environment["GPT2D_SMALL_MIN_ROWS"].flatMap { Int($0) } ?? 2

    /// Threads OpenBLAS may use (process-wide).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// out[M, N] = beta·out + x[M, K] · w[K, N]   (Conv1D layout, w row-major [in, out]).
    /// `ldx`/`ldo` are row strides in elements (default K / N).
    @inline(__always)
    static func conv1D(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil,
                       _ w: UnsafePointer<Float>, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        let ldx = ldx ?? k, ldo = ldo ?? n
        if smallKernels && m >= smallMinRows && m <= smallMaxRows {
            small(m: m, columns: n, align: 16) { r0, rows, c0, c1 in
                ck_matmul_kn(x + r0 * ldx, rows, k, ldx, w + c0, n, c1 - c0, out + r0 * ldo + c0, ldo, beta)
            }
        } else if m == 1 {
            // y[N] = wᵀ[N, K] · x[K]: row-major Trans is OpenBLAS's column-major NoTrans streaming kernel.
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, w, Int32(n), x, 1, beta, out, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, x, Int32(ldx), w, Int32(n), beta, out, Int32(ldo))
        }
    }

    /// out[M, N] = beta·out + x[M, K] · w[N, K]ᵀ   (Linear layout, w row-major [out, in]).
    @inline(__always)
    static func linear(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int? = nil,
                       _ w: UnsafePointer<Float>, n: Int,
                       _ out: UnsafeMutablePointer<Float>, ldo: Int? = nil, beta: Float) {
        let ldx = ldx ?? k, ldo = ldo ?? n
        if smallKernels && m >= smallMinRows && m <= smallMaxRows {
            small(m: m, columns: n, align: 2) { r0, rows, c0, c1 in
                ck_matmul_nk(x + r0 * ldx, rows, k, ldx, w + c0 * k, k, c1 - c0, out + r0 * ldo + c0, ldo, beta)
            }
        } else if m == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, w, Int32(k), x, 1, beta, out, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                        1, x, Int32(ldx), w, Int32(k), beta, out, Int32(ldo))
        }
    }

    /// Splits a small-M product over the compute threads by output columns, and rows into groups
    /// of ≤ 8 (each weight is then read once per group). body(r0, rows, c0, c1).
    @inline(__always)
    private static func small(m: Int, columns n: Int, align: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let parts = min(Parallel.matmulThreads, max(1, n / 256))
        let step = ((n + parts - 1) / parts + align - 1) / align * align
        Parallel.forEach(parts, parallel: parts > 1, threads: parts) { p in
            let c0 = p * step, c1 = min(n, c0 + step)
            guard c0 < c1 else { return }
            var r0 = 0
            while r0 < m {
                let rows = min(8, m - r0)
                body(r0, rows, c0, c1)
                r0 += rows
            }
        }
    }

    /// General strided product used by attention:
    /// c[M, N] = alpha · a[M, K] · op(b) + beta · c, with op(b) = bᵀ when `transB` (b is [N, K]) else b ([K, N]).
    @inline(__always)
    static func gemm(m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, lda: Int,
                     _ b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
