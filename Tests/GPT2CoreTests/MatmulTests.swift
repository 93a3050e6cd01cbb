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
    /// Beside each value, the sum of the magnitudes of its terms (|alpha|·Σ|a·b| + |beta·c|), which
    /// scales the rounding error any Float summation order may make.
    static func reference(m: Int, n: Int, k: Int, alpha: Float, _ a: [Float], lda: Int,
                          _ b: [Float], ldb: Int, transB: Bool, beta: Float, _ c: [Float], ldc: Int) -> Expected {
        var out = c, magnitude = [Double](repeating: 0, count: c.count)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0, size = 0.0
                for p in 0..<k {
                    let term = Double(a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                    s += term
                    size += abs(term)
                }
                let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                out[i * ldc + j] = Float(Double(alpha) * s + prior)
                magnitude[i * ldc + j] = abs(Double(alpha)) * size + abs(prior)
            }
        }
        return Expected(values: out, magnitude: magnitude, k: k)
    }

    /// A reference product and how far a correct Float computation of it may stray.
    struct Expected {
        let values: [Float]
        let magnitude: [Double]
        let k: Int
        /// Rounding errors of k Float additions grow like √k·ε·Σ|terms| (as a random walk; the worst
        /// case is k·ε): 4·√k·ε·Σ|terms| is far above any summation order's error on random data and
        /// far below a wrong index or a dropped term, which are off by about one term (~Σ|terms|/k).
        func tolerance(_ index: Int) -> Double {
            4 * Double(max(k, 1)).squareRoot() * Double(Float.ulpOfOne) * magnitude[index] + 1e-6
        }
    }

    static func random(_ n: Int, _ rng: inout some RandomNumberGenerator) -> [Float] {
        (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
    }

    /// Every element of `x` within tolerance of the reference (spare columns included: there the
    /// reference holds the untouched input and a magnitude of 0).
    static func close(_ x: [Float], _ want: Expected) -> Bool {
        x.count == want.values.count
            && x.indices.allSatisfy { Double(abs(x[$0] - want.values[$0])) <= want.tolerance($0) }
    }

    @Test(.enabled(if: CPUFeatures.avx512),
          arguments: [(1, 1, 1), (5, 63, 7), (6, 64, 256), (7, 65, 257), (13, 130, 300), (17, 129, 513), (100, 200, 64)])
    func packedGEMMMatchesReference(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: 0x6D61_746D_756C)
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
                #expect(Self.close(one, want), "ck_gemm m=\(m) n=\(n) k=\(k) transB=\(transB) beta=\(beta)")
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
        var rng = SplitMix64(seed: 0x6D61_746D_756C)
        for (k, n) in [(37, 53), (64, 17), (33, 300), (1100, 70)] {
            let x = Self.random(m * k, &rng), w = Self.random(k * n, &rng)
            for beta: Float in [0, 1] {
                let y0 = Self.random(m * n, &rng)
                var kn = y0, nk = y0
                Matmul.conv1D(x, m: m, k: k, w, n: n, &kn, beta: beta)
                Matmul.linear(x, m: m, k: k, w, n: n, &nk, beta: beta)  // w read as [n, k]
                let wantKN = Self.reference(m: m, n: n, k: k, alpha: 1, x, lda: k, w, ldb: n, transB: false, beta: beta, y0, ldc: n)
                let wantNK = Self.reference(m: m, n: n, k: k, alpha: 1, x, lda: k, w, ldb: k, transB: true, beta: beta, y0, ldc: n)
                #expect(Self.close(kn, wantKN), "conv1D m=\(m) k=\(k) n=\(n) beta=\(beta)")
                #expect(Self.close(nk, wantNK), "linear m=\(m) k=\(k) n=\(n) beta=\(beta)")
            }
        }
    }

    /// More than 8 rows run in groups of 8 over L2-sized blocks of W (so W streams from memory once):
    /// every row must come out bit for bit as when its group of ≤ 8 rows is computed alone, for both
    /// layouts, F32 and 16-bit weights, shapes that span several blocks, with and without the K split.
    @Test(arguments: [(100, 3072), (1100, 2304), (768, 300), (3072, 96)])
    func rowGroupsOverBlocksEqualSeparateCalls(_ shape: (Int, Int)) {
        let (k, n) = shape, m = 13
        var rng = SplitMix64(seed: 0x6D61_746D_756C)
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
                        #expect(Self.close(all, want), "k=\(k) n=\(n) layout=\(layout) beta=\(beta)")
                    }
                }
            }
        }
    }
}
