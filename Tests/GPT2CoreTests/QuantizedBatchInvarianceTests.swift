// Batch invariance of the quantized small-M products (m ≤ QuantizedStorage.smallMaxRows): a row's
// output is bit for bit the same whether the row is multiplied alone or among m = 2…32 rows, at any
// offset in the batch, so the engine's batching of sessions never changes a session's tokens. Checked
// for every format, at every body level this CPU runs (VNNI, AVX2, portable; ck_quant_set_level_cap:
// for the products this test's thread starts only), on shapes with a ragged last block (k = 200: int8/nf4
// blocks of 64, an odd number of q4 groups) and with several blocks (k = 1000).
import CKernels
import Testing
@testable import GPT2Core

extension QuantizedFormatTests {
    @Test(arguments: QuantFormat.allCases)
    func rowsOfOneProductEqualEachRowAlone(_ format: QuantFormat) {
        let rows = QuantizedStorage.smallMaxRows
        for (si, (n, k)) in [(19, 200), (40, 1000)].enumerated() {
            let mat = format.quantize(QuantTestData.weights(n, k, seed: UInt64(50 + si)), outputs: n, inputs: k)
            var rng = SeededRNG(UInt64(900 + si))
            let ldx = k + 3
            let x = (0..<(rows * ldx)).map { _ in Float.random(in: -2...2, using: &rng) }
            for level in QuantTestData.levels {
                ck_quant_set_level_cap(level)
                defer { ck_quant_set_level_cap(CK_QUANT_VNNI) }
                /// Rows [s, s + m) of x multiplied in one call: m × n outputs.
                func product(_ s: Int, _ m: Int) -> [Float] {
                    var y = [Float](repeating: .nan, count: m * n)
                    x.withUnsafeBufferPointer { xb in mat.multiply(xb.baseAddress! + s * ldx, m: m, ldx: ldx, &y, ldo: n, beta: 0) }
                    return y
                }
                let all = product(0, rows)
                var groupings = (0..<rows).map { (s: $0, m: 1) }               // every row alone
                groupings += (2...rows).map { m in (s: (m * 7) % (rows - m + 1), m: m) }  // m rows from an offset
                for (s, m) in groupings {
                    let part = product(s, m)
                    let bad = (0..<(m * n)).first { part[$0].bitPattern != all[s * n + $0].bitPattern }
                    let where_ = bad.map { "[\(s + $0 / n), \($0 % n)] \(part[$0]) vs \(all[s * n + $0])" } ?? ""
                    #expect(bad == nil, "\(format) level \(level) n=\(n) k=\(k): rows \(s)..<\(s + m), output \(where_)")
                }
            }
        }
    }
}

extension QuantizedFormatTests {
    /// Where QuantizedStorage.integerPrefill holds (every format on VNNI) a prefill's rows take the
    /// same integer product as decode steps: 150 rows in one call (past smallMaxRows and the C
    /// driver's 64-row blocks) equal each row alone and 40-row parts bit for bit. Below VNNI prefill
    /// keeps the widened F32 tiles.
    @Test(arguments: QuantFormat.allCases)
    func prefillRowsEqualDecodeRowsWhereTheIntegerProductServesBoth(_ format: QuantFormat) {
        ck_quant_set_level_cap(CK_QUANT_VNNI)
        let vnni = ck_quant_level() == CK_QUANT_VNNI
        #expect(QuantizedStorage.integerPrefill(format.weightType) == vnni)
        ck_quant_set_level_cap(CK_QUANT_AVX2)
        #expect(!QuantizedStorage.integerPrefill(format.weightType), "below VNNI prefill uses the F32 tiles")
        ck_quant_set_level_cap(CK_QUANT_VNNI)
        guard vnni else { return }
        let rows = 150, n = 37, k = 1000, ldx = k + 5
        let mat = format.quantize(QuantTestData.weights(n, k, seed: 77), outputs: n, inputs: k)
        var rng = SeededRNG(4242)
        let x = (0..<(rows * ldx)).map { _ in Float.random(in: -2...2, using: &rng) }
        func product(_ s: Int, _ m: Int) -> [Float] {
            var y = [Float](repeating: .nan, count: m * n)
            x.withUnsafeBufferPointer { xb in mat.multiply(xb.baseAddress! + s * ldx, m: m, ldx: ldx, &y, ldo: n, beta: 0) }
            return y
        }
        let all = product(0, rows)
        for (s, m) in [(0, 1), (63, 1), (64, 1), (149, 1), (3, 40), (100, 40), (10, 33)] {
            let part = product(s, m)
            let bad = (0..<(m * n)).first { part[$0].bitPattern != all[s * n + $0].bitPattern }
            #expect(bad == nil, "\(format): rows \(s)..<\(s + m) differ at \(bad.map { "[\(s + $0 / n), \($0 % n)]" } ?? "")")
        }
    }
}
