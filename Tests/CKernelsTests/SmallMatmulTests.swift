// The small-M kernels (m ≤ 16: AVX-512 KN in one tile, the rest in groups of 8) against the double
// reference, at every instruction-set level this CPU has (plain C always; AVX2 + FMA + F16C;
// AVX-512), through ck_matmul_kn_isa / ck_matmul_nk_isa, and through the public entry points at the
// level ck_isa() picked: every m from 1 to 16, odd k and n (below, at and past one vector), row strides wider than the rows (the padding holds NaN, so a kernel that
// reads it fails), beta 0 (y is NaN-filled: not read) and beta 1. A level the CPU lacks is not listed.
import CKernels
import Glibc
import Testing

@Suite struct SmallMatmulTests {
    static let shapes: [(k: Int, n: Int)] = [(1, 1), (7, 17), (37, 53), (300, 33)]

    /// The levels this CPU can run.
    static let levels: [Int32] = [Int32(CK_ISA_PLAIN)] + (ck_has_avx2() != 0 ? [Int32(CK_ISA_AVX2)] : [])
        + (hasAVX512 ? [Int32(CK_ISA_AVX512)] : [])

    /// A kernel call: (x, m, k, ldx, W, y, ldy, beta).
    typealias Kernel = (UnsafePointer<Float>, Int, Int, Int, Matrix, UnsafeMutablePointer<Float>, Int, Float) -> Void

    /// Runs `kernel` for each m, shape and beta against y = beta·y + x·op(W). `weights` makes W as the
    /// kernel sees it: [k, n] (`transposed` false, kn) or [n, k] (true, nk).
    func check(_ name: String, transposed: Bool, seed: UInt64,
               weights: (inout SeededRandom, _ k: Int, _ n: Int) -> Matrix, kernel: Kernel) {
        var rng = SeededRandom(seed: seed)
        for (k, n) in Self.shapes {
            let w = weights(&rng, k, n)
            for m in 1...16 {
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

    static func randomWeights(transposed: Bool) -> (inout SeededRandom, Int, Int) -> Matrix {
        { rng, k, n in transposed ? .random(n, k, ld: k + 5, &rng) : .random(k, n, ld: n + 5, &rng) }
    }

    @Test func detectionMatchesTheCPUFlags() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set((cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? "").split(separator: " "))
        #expect(hasAVX512 == flags.contains("avx512f"))
        #expect((ck_has_avx2() != 0) == (flags.contains("avx2") && flags.contains("fma") && flags.contains("f16c")))
        // The level in use is the best one, unless GPT2D_ISA lowers it.
        #expect(ck_isa() <= Self.levels.last!)
        if getenv("GPT2D_ISA") == nil { #expect(ck_isa() == Self.levels.last!) }
    }

    @Test(arguments: levels, [false, true])
    func f32(level: Int32, transposed: Bool) {
        check("isa \(level) nk=\(transposed)", transposed: transposed, seed: UInt64(10 + level),
              weights: Self.randomWeights(transposed: transposed)) { x, m, k, ldx, w, y, ldy, beta in
            let n = transposed ? w.rows : w.cols
            w.data.withUnsafeBytes { wp in
                (transposed ? ck_matmul_nk_isa : ck_matmul_kn_isa)(level, x, m, k, ldx, wp.baseAddress!, 0, w.ld, n, y, ldy, beta)
            }
        }
    }

    /// ck_matmul_kn / ck_matmul_nk, at whatever level ck_isa() chose.
    @Test(arguments: [false, true])
    func publicEntryPoints(transposed: Bool) {
        check("public nk=\(transposed)", transposed: transposed, seed: 5, weights: Self.randomWeights(transposed: transposed)) {
            x, m, k, ldx, w, y, ldy, beta in
            w.data.withUnsafeBufferPointer { wp in
                if transposed {
                    ck_matmul_nk(x, m, k, ldx, wp.baseAddress!, w.ld, w.rows, y, ldy, beta)
                } else {
                    ck_matmul_kn(x, m, k, ldx, wp.baseAddress!, w.ld, w.cols, y, ldy, beta)
                }
            }
        }
    }

    /// The 16-bit forms at each level: against the reference on the decoded weights, and bit for bit
    /// against the same level's F32 kernel on those decoded weights (ckernels.h: same FMAs, same order).
    @Test(arguments: levels, HalfKind.allCases)
    func w16(level: Int32, kind: HalfKind) {
        for transposed in [false, true] {
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
            let label = "w16 \(kind) isa \(level) nk=\(transposed)"
            check(label, transposed: transposed, seed: transposed ? 4 : 3, weights: weights) { x, m, k, ldx, w, y, ldy, beta in
                let n = transposed ? w.rows : w.cols
                let isa = transposed ? ck_matmul_nk_isa : ck_matmul_kn_isa
                var f32 = Array(UnsafeBufferPointer(start: y, count: m * ldy))
                encoded.withUnsafeBytes { isa(level, x, m, k, ldx, $0.baseAddress!, kind.ck, w.ld, n, y, ldy, beta) }
                w.data.withUnsafeBytes { isa(level, x, m, k, ldx, $0.baseAddress!, 0, w.ld, n, &f32, ldy, beta) }
                for i in 0..<m {
                    for j in 0..<n where y[i * ldy + j].bitPattern != f32[i * ldy + j].bitPattern {
                        Issue.record("\(label) m=\(m) k=\(k) n=\(n): [\(i), \(j)] \(y[i * ldy + j]) ≠ F32's \(f32[i * ldy + j])")
                        return
                    }
                }
            }
        }
    }
}
