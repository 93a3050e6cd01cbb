// ck_matmul_kn / ck_matmul_nk (m ≤ 8) and their 16-bit-weight forms against the double reference:
// every m from 1 to 8, odd k and n (below, at and past one 16-lane vector), row strides wider than the
// rows, beta 0 (y is not read: NaN-filled) and beta 1.
import CKernels
import Testing

@Suite struct SmallMatmulTests {
    /// Not AVX-512 code: runs everywhere. The answer must match what the kernel's CPU reports.
    @Test func detectionMatchesTheCPUFlags() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        #expect(hasAVX512 == flags.split(separator: " ").contains("avx512f"))
    }

    static let shapes: [(k: Int, n: Int)] = [(1, 1), (7, 17), (37, 53), (300, 33)]

    /// Runs `kernel(x, m, k, ldx, y, ldy, beta)` for each m, shape and beta against y = beta·y + x·op(W).
    /// `w` is W as the kernel sees it: [k, n] (`transposed` false, kn) or [n, k] (true, nk).
    func check(_ name: String, transposed: Bool, seed: UInt64,
               weights: (inout SeededRandom, _ k: Int, _ n: Int) -> Matrix,
               kernel: (UnsafePointer<Float>, Int, Int, Int, Matrix, UnsafeMutablePointer<Float>, Int, Float) -> Void) {
        var rng = SeededRandom(seed: seed)
        for (k, n) in Self.shapes {
            let w = weights(&rng, k, n)
            for m in 1...8 {
                let x = Matrix.random(m, k, ld: k + 3, &rng)
                for beta: Float in [0, 1] {
                    let pad: Float = 12345
                    let start = Matrix.random(m, n, ld: n + 2, &rng)
                    var y = Matrix(rows: m, cols: n, ld: n + 2, pad: pad) { i, j in beta == 0 ? .nan : start[i, j] }
                    let want = referenceProduct(x, w, transB: transposed, alpha: 1, beta: Double(beta), c0: start)
                    x.data.withUnsafeBufferPointer { xp in
                        y.data.withUnsafeMutableBufferPointer { yp in
                            kernel(xp.baseAddress!, m, k, x.ld, w, yp.baseAddress!, y.ld, beta)
                        }
                    }
                    let label = "\(name) m=\(m) k=\(k) n=\(n) beta=\(beta)"
                    #expect(mismatch(y, want, label) == nil, "\(mismatch(y, want, label) ?? "")")
                    #expect(paddingIntact(y, pad: pad), "\(label): wrote past n")
                }
            }
        }
    }

    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)))
    func knF32() {
        check("kn", transposed: false, seed: 1, weights: { rng, k, n in .random(k, n, ld: n + 5, &rng) }) { x, m, k, ldx, w, y, ldy, beta in
            w.data.withUnsafeBufferPointer { ck_matmul_kn(x, m, k, ldx, $0.baseAddress!, w.ld, w.cols, y, ldy, beta) }
        }
    }

    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)))
    func nkF32() {
        check("nk", transposed: true, seed: 2, weights: { rng, k, n in .random(n, k, ld: k + 5, &rng) }) { x, m, k, ldx, w, y, ldy, beta in
            w.data.withUnsafeBufferPointer { ck_matmul_nk(x, m, k, ldx, $0.baseAddress!, w.ld, w.rows, y, ldy, beta) }
        }
    }

    /// The 16-bit kernels: against the reference on the decoded weights, and bit for bit against the F32
    /// kernel on the same decoded weights (ckernels.h promises the same FMAs in the same order).
    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: HalfKind.allCases, [false, true])
    func w16(_ kind: HalfKind, transposed: Bool) {
        var encoded: [UInt16] = []
        let weights = { (rng: inout SeededRandom, k: Int, n: Int) -> Matrix in
            let (rows, cols) = transposed ? (n, k) : (k, n)
            var bits = [UInt16](repeating: 0, count: rows * (cols + 5))
            let w = Matrix(rows: rows, cols: cols, ld: cols + 5) { i, j in
                let e = kind.encode(rng.float())
                bits[i * (cols + 5) + j] = e.bits
                return e.value
            }
            encoded = bits
            return w
        }
        check("w16 \(kind) nk=\(transposed)", transposed: transposed, seed: transposed ? 4 : 3, weights: weights) { x, m, k, ldx, w, y, ldy, beta in
            let n = transposed ? w.rows : w.cols
            var f32 = [Float](repeating: 0, count: m * ldy)
            for i in 0..<(m * ldy) { f32[i] = y[i] }
            encoded.withUnsafeBytes { wp in
                (transposed ? ck_matmul_nk_w16 : ck_matmul_kn_w16)(x, m, k, ldx, wp.baseAddress!, kind.ck, w.ld, n, y, ldy, beta)
            }
            w.data.withUnsafeBufferPointer { wp in
                (transposed ? ck_matmul_nk : ck_matmul_kn)(x, m, k, ldx, wp.baseAddress!, w.ld, n, &f32, ldy, beta)
            }
            for i in 0..<m {
                for j in 0..<n where y[i * ldy + j].bitPattern != f32[i * ldy + j].bitPattern {
                    Issue.record("w16 \(kind) m=\(m) k=\(k) n=\(n): [\(i), \(j)] \(y[i * ldy + j]) ≠ F32 kernel's \(f32[i * ldy + j])")
                    return
                }
            }
        }
    }
}
