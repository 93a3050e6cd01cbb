// Batch invariance of the threaded small-M products: the m rows of one product (m up to 16: on
// AVX-512 one register tile of up to 16 rows, on AVX2 row groups of ≤ 8 walking L2-sized blocks of
// W — column panels by 16-row chunks) give, row by row, exactly the bits the same row gives alone.
// Each y element sees the same FMAs in the same order whatever the grouping, tile width or block
// shape, so equality is what is promised.
// Shapes with several panels and several row blocks per panel (k = 1100, n = 300: the K split's
// 550-row ranges take two blocks of each 128-column panel), the column split (k = 300, n = 700) and a
// small ragged one; F32 and BF16 weights, both layouts.
import CKernels
import Testing

@Suite struct SmallBatchInvarianceTests {
    static let shapes: [(k: Int, n: Int)] = [(1100, 300), (300, 700), (37, 53)]

    /// y[0:m] of one call, and each row computed alone: equal bit for bit. The pool's thread count
    /// decides the K split (and so the rounding), so a comparison is redone if another suite changed it
    /// meanwhile.
    func check(m: Int, k: Int, n: Int, nk: Bool, kind: Int32, _ rng: inout SeededRandom) -> String? {
        let ldw = nk ? k : n, wRows = nk ? n : k
        let x = Matrix.random(m, k, ld: k + 1, &rng)
        let w32 = Matrix.random(wRows, ldw, ld: ldw, &rng).data
        // 16-bit weights: the top halves of the F32 values (bfloat16 patterns).
        let w16 = w32.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }
        func product(_ rows: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
            if kind == 0 {
                (nk ? ck_matmul_nk_parallel : ck_matmul_kn_parallel)(x, rows, k, k + 1, w32, ldw, n, y, n, 0)
            } else {
                (nk ? ck_matmul_nk_w16_parallel : ck_matmul_kn_w16_parallel)(x, rows, k, k + 1, w16, kind, ldw, n, y, n, 0)
            }
        }
        for _ in 0..<3 {
            let threads = ck_pool_threads()
            var all = [Float](repeating: .nan, count: m * n), alone = all
            x.data.withUnsafeBufferPointer { xp in
                product(m, xp.baseAddress!, &all)
                for i in 0..<m {
                    alone.withUnsafeMutableBufferPointer { yp in product(1, xp.baseAddress! + i * x.ld, yp.baseAddress! + i * n) }
                }
            }
            guard ck_pool_threads() == threads else { continue }
            if let c = (0..<(m * n)).first(where: { all[$0].bitPattern != alone[$0].bitPattern }) {
                return "\(nk ? "nk" : "kn") kind \(kind) m=\(m) k=\(k) n=\(n): row \(c / n) col \(c % n) \(all[c]) alone \(alone[c])"
            }
            return nil
        }
        return nil  // the thread count kept changing: nothing comparable was computed
    }

    @Test(arguments: [2, 8, 9, 12, 13, 16])
    func rowsOfOneProductEqualEachRowAlone(_ m: Int) {
        if ck_pool_threads() < 2 { _ = ck_pool_set_threads(2) }
        var rng = SeededRandom(seed: UInt64(100 + m))
        for (k, n) in Self.shapes {
            for nk in [false, true] {
                for kind in [Int32(0), Int32(CK_HALF_BF16)] {
                    let failure = check(m: m, k: k, n: n, nk: nk, kind: kind, &rng)
                    #expect(failure == nil, "\(failure ?? "")")
                }
            }
        }
    }
}
