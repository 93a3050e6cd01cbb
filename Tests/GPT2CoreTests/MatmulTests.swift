// The matrix products (CKernels' packed GEMM and small-M kernels, or OpenBLAS without AVX-512)
// against a Double-precision reference, on odd shapes: tails in every dimension of the 6×64
// register tile, K across the 256-wide packing blocks, strided rows, both weight layouts,
// alpha and beta, and every row count the small-M path serves.
import CKernels
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct MatmulTests {
    /// More than one thread, so the threaded splits run (decode products split K when k ≥ 256·threads).
    init() { TestThreads.configure() }

    /// c = alpha·a·op(b) + beta·c in Double; a is [m, k] (row stride lda), b is [k, n] or [n, k].
    static func reference(m: Int, n: Int, k: Int, alpha: Float, _ a: [Float], lda: Int,
                          _ b: [Float], ldb: Int, transB: Bool, beta: Float, _ c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j]) }
                let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                out[i * ldc + j] = Float(Double(alpha) * s + prior)
            }
        }
        return out
    }

    static func random(_ n: Int, _ rng: inout some RandomNumberGenerator) -> [Float] {
        (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
    }

    static func close(_ x: [Float], _ y: [Float], k: Int) -> Bool {
        let tol = Float(max(k, 1)).squareRoot() * 2e-6 + 1e-6
        return zip(x, y).allSatisfy { abs($0 - $1) <= tol }
    }

    @Test(.enabled(if: CPUFeatures.avx512),
          arguments: [(1, 1, 1), (5, 63, 7), (6, 64, 256), (7, 65, 257), (13, 130, 300), (17, 129, 513), (100, 200, 64)])
    func packedGEMMMatchesReference(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SystemRandomNumberGenerator()
        for transB in [false, true] {
            for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.125, 0.5)] {
                // Strided rows: a and c carry 3 spare columns, b 5.
                let lda = k + 3, ldc = n + 3, ldb = (transB ? k : n) + 5
                let a = Self.random(m * lda, &rng), b = Self.random((transB ? n : k) * ldb, &rng)
                let c0 = Self.random(m * ldc, &rng)
                let want = Self.reference(m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb,
                                          transB: transB, beta: beta, c0, ldc: ldc)
                var one = c0, par = c0
                ck_gemm(m, n, k, alpha, a, lda, b, ldb, transB ? 1 : 0, beta, &one, ldc)
                ck_gemm_parallel(m, n, k, alpha, a, lda, b, ldb, transB ? 1 : 0, beta, &par, ldc)
                #expect(Self.close(one, want, k: k), "ck_gemm m=\(m) n=\(n) k=\(k) transB=\(transB) beta=\(beta)")
                #expect(par == one, "the parallel split computes the same sums")
                // Spare columns are never written.
                #expect((0..<m).allSatisfy { i in (n..<ldc).allSatisfy { one[i * ldc + $0] == c0[i * ldc + $0] } })
            }
        }
    }

    @Test func betaZeroNeverReadsC() {
        guard CPUFeatures.avx512 else { return }
        let m = 20, n = 70, k = 9
        let a = [Float](repeating: 1, count: m * k), b = [Float](repeating: 2, count: k * n)
        var c = [Float](repeating: .nan, count: m * n)
        ck_gemm_parallel(m, n, k, 1, a, k, b, n, 0, 0, &c, n)
        #expect(c.allSatisfy { $0 == 18 })
    }

    /// Matmul's dispatch (small-M kernels up to 16 rows, packed GEMM above; OpenBLAS without AVX-512)
    /// for both weight layouts and beta 0/1.
    @Test(arguments: [1, 2, 3, 8, 9, 16, 17, 40])
    func matmulRowsMatchReference(_ m: Int) {
        var rng = SystemRandomNumberGenerator()
        for (k, n) in [(37, 53), (64, 17), (33, 300), (1100, 70)] {
            let x = Self.random(m * k, &rng), w = Self.random(k * n, &rng)
            for beta: Float in [0, 1] {
                let y0 = Self.random(m * n, &rng)
                var kn = y0, nk = y0
                Matmul.conv1D(x, m: m, k: k, w, n: n, &kn, beta: beta)
                Matmul.linear(x, m: m, k: k, w, n: n, &nk, beta: beta)  // w read as [n, k]
                let wantKN = Self.reference(m: m, n: n, k: k, alpha: 1, x, lda: k, w, ldb: n, transB: false, beta: beta, y0, ldc: n)
                let wantNK = Self.reference(m: m, n: n, k: k, alpha: 1, x, lda: k, w, ldb: k, transB: true, beta: beta, y0, ldc: n)
                #expect(Self.close(kn, wantKN, k: k), "conv1D m=\(m) k=\(k) n=\(n) beta=\(beta)")
                #expect(Self.close(nk, wantNK, k: k), "linear m=\(m) k=\(k) n=\(n) beta=\(beta)")
            }
        }
    }

    /// More than 8 rows run in groups of 8 over L2-sized blocks of W (so W streams from memory once):
    /// every row must come out bit for bit as when its group of ≤ 8 rows is computed alone, for both
    /// layouts, F32 and 16-bit weights, shapes that span several blocks, with and without the K split.
    @Test(arguments: [(100, 3072), (1100, 2304), (768, 300), (3072, 96)])
    func rowGroupsOverBlocksEqualSeparateCalls(_ shape: (Int, Int)) {
        let (k, n) = shape, m = 13
        var rng = SystemRandomNumberGenerator()
        let x = Self.random(m * k, &rng), w = Self.random(k * n, &rng)
        let w16 = w.map { Float16($0).bitPattern }
        for beta: Float in [0, 1] {
            let y0 = Self.random(m * n, &rng)
            for layout in 0..<2 {
                for half in [false, true] {
                    func run(_ rows: Range<Int>) -> [Float] {
                        var y = Array(y0[(rows.lowerBound * n)..<(rows.upperBound * n)])
                        let xs = Array(x[(rows.lowerBound * k)..<(rows.upperBound * k)])
                        let ldw = layout == 0 ? n : k
                        w16.withUnsafeBytes { h in
                            switch (layout, half) {
                            case (0, false): ck_matmul_kn_parallel(xs, rows.count, k, k, w, ldw, n, &y, n, beta)
                            case (1, false): ck_matmul_nk_parallel(xs, rows.count, k, k, w, ldw, n, &y, n, beta)
                            case (0, true): ck_matmul_kn_w16_parallel(xs, rows.count, k, k, h.baseAddress, CK_HALF_F16, ldw, n, &y, n, beta)
                            default: ck_matmul_nk_w16_parallel(xs, rows.count, k, k, h.baseAddress, CK_HALF_F16, ldw, n, &y, n, beta)
                            }
                        }
                        return y
                    }
                    let all = run(0..<m), separate = run(0..<8) + run(8..<m)
                    #expect(all == separate, "k=\(k) n=\(n) layout=\(layout) half=\(half) beta=\(beta)")
                    if !half {
                        let want = Self.reference(m: m, n: n, k: k, alpha: 1, x, lda: k, w, ldb: layout == 0 ? n : k,
                                                  transB: layout == 1, beta: beta, y0, ldc: n)
                        #expect(Self.close(all, want, k: k), "k=\(k) n=\(n) layout=\(layout) beta=\(beta)")
                    }
                }
            }
        }
    }
}
