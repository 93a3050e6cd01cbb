// ck_gemm and its column tasks against the double reference: shapes that cross the register tile
// (MR 6 × NR 64) and the cache blocks (MC 192, KC 256, NC_MAX 768), both B layouts, row strides wider
// than the rows, and alpha/beta (beta 0 never reads C: NaN-filled).
import CKernels
import Testing

@Suite struct GemmTests {
    struct Case: CustomStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var alpha: Float, beta: Float
        var description: String { "m=\(m) n=\(n) k=\(k) alpha=\(alpha) beta=\(beta)" }
    }

    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1, alpha: 1, beta: 0),
        Case(m: 5, n: 63, k: 9, alpha: 1, beta: 1),
        Case(m: 13, n: 65, k: 31, alpha: 0.5, beta: 0.25),
        Case(m: 197, n: 70, k: 263, alpha: -1.5, beta: 0),
        Case(m: 7, n: 781, k: 37, alpha: 2, beta: 1),
    ]

    /// The operands of one case: A [m, k], B [k, n] or [n, k], C0 [m, n], each with a wider stride.
    func operands(_ c: Case, transB: Bool, seed: UInt64) -> (a: Matrix, b: Matrix, c0: Matrix) {
        var rng = SeededRandom(seed: seed)
        let a = Matrix.random(c.m, c.k, ld: c.k + 3, &rng)
        let b = transB ? Matrix.random(c.n, c.k, ld: c.k + 5, &rng) : Matrix.random(c.k, c.n, ld: c.n + 5, &rng)
        let c0 = Matrix.random(c.m, c.n, ld: c.n + 2, &rng)
        return (a, b, c0)
    }

    /// Runs `product(a, b, c)` on C = C0 (NaN when beta is 0) and checks it against the reference.
    func check(_ c: Case, transB: Bool, _ what: String,
               _ product: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Matrix, Matrix, Matrix) -> Void) {
        let (a, b, c0) = operands(c, transB: transB, seed: UInt64(c.m * 1000 + c.n + (transB ? 7 : 0)))
        let pad: Float = -777
        var out = Matrix(rows: c.m, cols: c.n, ld: c0.ld, pad: pad) { i, j in c.beta == 0 ? .nan : c0[i, j] }
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                let shape = out
                out.data.withUnsafeMutableBufferPointer { cp in product(ap.baseAddress!, bp.baseAddress!, cp.baseAddress!, a, b, shape) }
            }
        }
        let want = referenceProduct(a, b, transB: transB, alpha: Double(c.alpha), beta: Double(c.beta), c0: c0)
        let label = "\(what) \(c) transB=\(transB)"
        #expect(mismatch(out, want, label) == nil, "\(mismatch(out, want, label) ?? "")")
        #expect(paddingIntact(out, pad: pad), "\(label): wrote past n")
    }

    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: cases, [false, true])
    func gemm(_ c: Case, transB: Bool) {
        check(c, transB: transB, "ck_gemm") { a, b, out, am, bm, cm in
            ck_gemm(c.m, c.n, c.k, c.alpha, a, am.ld, b, bm.ld, transB ? 1 : 0, c.beta, out, cm.ld)
        }
    }

    /// The split (plain C, runs everywhere): at least one task, at most one per 64-column panel, a
    /// multiple of the thread count when the panels allow.
    @Test(arguments: cases, [1, 2, 3, 8])
    func taskCount(_ c: Case, threads: Int) {
        let tasks = ck_gemm_tasks(c.m, c.n, c.k, threads)
        let panels = (c.n + 63) / 64
        #expect(tasks >= 1 && tasks <= panels, "\(c) threads=\(threads): \(tasks) tasks")
        #expect(tasks % threads == 0 || tasks == panels, "\(c) threads=\(threads): \(tasks) tasks")
    }

    /// Every task of a split, run in reverse order, together computes C.
    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: cases, [1, 2, 3, 8])
    func tasks(_ c: Case, threads: Int) {
        let tasks = ck_gemm_tasks(c.m, c.n, c.k, threads)
        check(c, transB: threads % 2 == 0, "ck_gemm_task×\(tasks)") { a, b, out, am, bm, cm in
            for t in stride(from: tasks - 1, through: 0, by: -1) {
                ck_gemm_task(t, tasks, c.m, c.n, c.k, c.alpha, a, am.ld, b, bm.ld, threads % 2 == 0 ? 1 : 0, c.beta, out, cm.ld)
            }
        }
    }

    @Test func emptyProductsTouchNothing() {
        #expect(ck_gemm_tasks(0, 5, 5, 2) == 0)
        #expect(ck_gemm_tasks(5, 0, 5, 2) == 0)
        // An empty product returns before any AVX-512 code: safe on every CPU.
        var c: [Float] = [42]
        let a: [Float] = [1], b: [Float] = [1]
        ck_gemm(0, 1, 1, 1, a, 1, b, 1, 0, 0, &c, 1)
        ck_gemm(1, 0, 1, 1, a, 1, b, 1, 0, 0, &c, 1)
        #expect(c == [42])
    }
}
