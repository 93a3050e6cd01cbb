// The quantized weight formats (Int8Matrix, NF4Matrix single and double, Q4Matrix, FP4Matrix):
// quantize → dequantizeRow round-trip error bounds, the products against a double-precision
// product on the dequantized weights (bound from the int8 activations, QuantTestData.bound),
// odd shapes (K not a multiple of the block, odd N, m = 1...33: the small-M kernels and the tiled
// F32 path), the portable C bodies against the AVX2 ones, and init(segments:) rebuilding a
// matrix that computes identically.
import CKernels
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct QuantizedFormatTests {
    /// More than one thread (the run's one pool size), so the column split over the pool runs.
    init() { TestThreads.configure() }

    @Test(arguments: QuantFormat.allCases)
    func roundTripErrorIsWithinTheFormatsStep(_ format: QuantFormat) {
        let n = 7, k = 200  // 200: a partial last block for every format
        let w = QuantTestData.weights(n, k, seed: 1)
        let mat = format.quantize(w, outputs: n, inputs: k)
        let deq = QuantTestData.dequantized(mat)
        let maxGapNF4 = zip(ck_nf4_codeArray, ck_nf4_codeArray.dropFirst()).map { $1 - $0 }.max()!
        // Double quantization: each absmax is off by at most half the dynamic map's largest gap
        // (plus bitsandbytes' 1/65535 grid) times its 256-block's absmax2.
        var absmaxError = [Float](repeating: 0, count: n * ((k + 63) / 64))
        if let nf4 = mat as? NF4Matrix, nf4.doubleQuantized {
            let dyn = withUnsafeBytes(of: ck_nf4_dynamic_code) { Array($0.bindMemory(to: Float.self)) }
            let half = zip(dyn, dyn.dropFirst()).map { $1 - $0 }.max()! / 2 + 1 / 65535
            let a2 = nf4.segments[2].bindMemory(to: Float.self)
            for i in absmaxError.indices { absmaxError[i] = a2[i / NF4Matrix.block2] * half * 1.0001 }
            // The 4-bit indices do not depend on how the absmax is stored.
            let single = NF4Matrix(quantizing: w, outputs: n, inputs: k, doubleQuantization: false)
            #expect(Array(single.segments[0]) == Array(nf4.segments[0]))
        }
        for j in 0..<n {
            var b = 0
            while b < k {
                let e = min(k, b + format.block), blockW = w[(j * k + b)..<(j * k + e)]
                let amax = blockW.map { abs($0) }.max()!, lo = blockW.min()!, hi = blockW.max()!
                for p in (j * k + b)..<(j * k + e) {
                    let err = abs(deq[p] - w[p])
                    switch format {
                    case .int8:
                        #expect(err <= amax / 254 * 1.0001 + 1e-12, "int8 [\(j), \(p - j * k)]")
                    case .nf4Single:
                        #expect(err <= amax * maxGapNF4 / 2 * 1.0001 + 1e-12, "nf4 [\(j), \(p - j * k)]")
                    case .nf4, .nf4Medium:   // the same bytes: medium changes only the product
                        let da = absmaxError[j * ((k + 63) / 64) + b / 64]
                        #expect(err <= amax * maxGapNF4 / 2 * 1.0001 + da + 1e-12, "nf4 double [\(j), \(p - j * k)]")
                    case .fp4:  // half FP4's largest gap between neighbouring values (2/3 … 1)
                        let fp4 = withUnsafeBytes(of: ck_fp4_code) { Array($0.bindMemory(to: Float.self)) }.sorted()
                        let maxGap = zip(fp4, fp4.dropFirst()).map { $1 - $0 }.max()!
                        #expect(err <= amax * maxGap / 2 * 1.0001 + 1e-12, "fp4 [\(j), \(p - j * k)]")
                    case .q4:   // half a step, plus the binary16 rounding of d (×15) and of m
                        let d = (hi - lo) / 15
                        #expect(err <= d * 0.51 + abs(lo) * 0.001 + 1e-12, "q4 [\(j), \(p - j * k)]")
                    }
                }
                b = e
            }
        }
        // The all-zero row stays exactly zero.
        #expect(deq[k..<(2 * k)].allSatisfy { $0 == 0 })
    }

    /// Relative RMS error on normal weights (GPT-2's shape of distribution): q4 must be at least as
    /// good as nf4 to be worth its extra scale bytes; int8 far better than both.
    @Test func q4IsAtLeastAsAccurateAsNF4OnNormalWeights() {
        let n = 96, k = 768
        var rng = SeededRNG(5)
        let w = (0..<(n * k)).map { _ in 0.02 * rng.normal() }
        func rms(_ f: QuantFormat) -> Double {
            let d = QuantTestData.dequantized(f.quantize(w, outputs: n, inputs: k))
            let e = zip(d, w).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            return (e / w.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
        }
        let i8 = rms(.int8), nf4 = rms(.nf4), q4 = rms(.q4)
        #expect(i8 < 0.01)
        #expect(nf4 < 0.12)
        #expect(q4 <= nf4)
    }

    static let shapes: [(n: Int, k: Int)] = [(33, 200), (64, 256), (17, 31), (5, 1000)]

    @Test(arguments: QuantFormat.allCases)
    func productsMatchADoubleProductOnTheDequantizedWeights(_ format: QuantFormat) {
        for (si, shape) in Self.shapes.enumerated() {
            let (n, k) = shape
            let mat = format.quantize(QuantTestData.weights(n, k, seed: UInt64(10 + si)), outputs: n, inputs: k)
            let deq = QuantTestData.dequantized(mat)
            for m in [1, 2, 3, 4, 5, 8, 16, 31, 32, 33] {
                var rng = SeededRNG(UInt64(100 * si + m))
                let ldx = k + 3, ldo = n + 2
                let x = (0..<(m * ldx)).map { _ in Float.random(in: -2...2, using: &rng) }
                for beta: Float in [0, 1] {
                    let y0: [Float] = (0..<(m * ldo)).map { _ in beta == 0 ? .nan : Float.random(in: -1...1, using: &rng) }
                    var y = y0
                    mat.multiply(x, m: m, ldx: ldx, &y, ldo: ldo, beta: beta)
                    var worst = 0.0
                    let nb = (k + format.block - 1) / format.block
                    let xMax = QuantTestData.blockMax(x, rows: m, cols: k, stride: ldx, block: format.block)
                    let wMax = QuantTestData.blockMax(deq, rows: n, cols: k, stride: k, block: format.block)
                    x.withUnsafeBufferPointer { xb in
                        deq.withUnsafeBufferPointer { wb in
                            for i in 0..<m {
                                for j in 0..<n {
                                    let xr = xb.baseAddress! + i * ldx, wr = wb.baseAddress! + j * k
                                    var ref = beta == 0 ? 0.0 : Double(y0[i * ldo + j])
                                    for p in 0..<k { ref += Double(xr[p]) * Double(wr[p]) }
                                    let bound = QuantTestData.bound(x: xr, w: wr, k: k, block: format.block,
                                                                    xMax: xMax[(i * nb)..<(i * nb + nb)],
                                                                    wMax: wMax[(j * nb)..<(j * nb + nb)],
                                                                    codeError: format.productCodeError,
                                                                    small: m <= QuantizedStorage.smallMaxRows
                                                                        || QuantizedStorage.integerPrefill(format.weightType))
                                    worst = max(worst, abs(Double(y[i * ldo + j]) - ref) / bound)
                                }
                            }
                        }
                    }
                    // The stride gap is never written.
                    if beta == 0 {
                        for i in 0..<m { #expect(y[(i * ldo + n)..<(i * ldo + ldo)].allSatisfy { $0.isNaN }) }
                    }
                    #expect(worst <= 1, "\(format) n=\(n) k=\(k) m=\(m) beta=\(beta): error / bound = \(worst)")
                }
            }
        }
    }

    /// The portable C bodies (what a CPU without AVX2 runs) against the best SIMD one: the same int32
    /// block sums scaled and summed by the same F32 operations in the same order (fmaf), so the same
    /// bits — for every format, ragged shapes and partial tiles.
    @Test func portableBodiesEqualTheFastPathBitForBit() {
        defer { ck_quant_set_level_cap(CK_QUANT_VNNI) }
        for format in QuantFormat.allCases {
            for (n, k) in [(45, 300), (16, 64), (3, 33)] {
                let mat = format.quantize(QuantTestData.weights(n, k, seed: 77), outputs: n, inputs: k)
                for m in [1, 3, 4, 7, 32] {
                    var rng = SeededRNG(UInt64(m))
                    let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
                    var fast = [Float](repeating: .nan, count: m * n), portable = fast
                    ck_quant_set_level_cap(CK_QUANT_VNNI)
                    mat.multiply(x, m: m, ldx: k, &fast, ldo: n, beta: 0)
                    ck_quant_set_level_cap(CK_QUANT_PORTABLE)
                    mat.multiply(x, m: m, ldx: k, &portable, ldo: n, beta: 0)
                    let bad = (0..<(m * n)).first { fast[$0].bitPattern != portable[$0].bitPattern }
                    #expect(bad == nil, "\(format) n=\(n) k=\(k) m=\(m): output \(bad.map { "\($0): \(fast[$0]) vs \(portable[$0])" } ?? "")")
                }
            }
        }
    }

    /// The VNNI bodies against the AVX2 ones: the same int32 lanes scaled by the same F32 operations,
    /// so every output is the same bits — for every format, row count 1…32 and shapes with ragged and
    /// odd last blocks. Runs where the CPU has AVX-512 VNNI (elsewhere nothing runs the VNNI bodies).
    @Test(.enabled(if: QuantTestData.levels.contains(CK_QUANT_VNNI), "this CPU has no AVX-512 VNNI"))
    func vnniBodiesEqualTheAVX2OnesBitForBit() {
        defer { ck_quant_set_level_cap(CK_QUANT_VNNI) }
        for format in QuantFormat.allCases {
            for (si, (n, k)) in [(45, 300), (16, 64), (3, 33), (40, 1000), (7, 2048)].enumerated() {
                let mat = format.quantize(QuantTestData.weights(n, k, seed: UInt64(300 + si)), outputs: n, inputs: k)
                for m in [1, 2, 3, 4, 5, 7, 8, 9, 16, 32] {
                    var rng = SeededRNG(UInt64(1000 * si + m))
                    // Activations spanning signs and magnitudes, with exact zeros and a row of extremes.
                    var x = (0..<(m * k)).map { _ in Float.random(in: -3...3, using: &rng) }
                    for p in stride(from: 0, to: m * k, by: 13) { x[p] = 0 }
                    if m > 1 { for p in 0..<k { x[k + p] = p % 2 == 0 ? 1e4 : -1e4 } }
                    var vnni = [Float](repeating: .nan, count: m * n), avx2 = vnni
                    ck_quant_set_level_cap(CK_QUANT_VNNI)
                    #expect(ck_quant_level() == CK_QUANT_VNNI)
                    mat.multiply(x, m: m, ldx: k, &vnni, ldo: n, beta: 0)
                    ck_quant_set_level_cap(CK_QUANT_AVX2)
                    mat.multiply(x, m: m, ldx: k, &avx2, ldo: n, beta: 0)
                    let bad = (0..<(m * n)).first { vnni[$0].bitPattern != avx2[$0].bitPattern }
                    #expect(bad == nil, "\(format) n=\(n) k=\(k) m=\(m): output \(bad.map { "\($0): \(vnni[$0]) vs \(avx2[$0])" } ?? "")")
                }
            }
        }
    }

    @Test(arguments: QuantFormat.allCases)
    func segmentsRebuildAnIdenticalMatrix(_ format: QuantFormat) throws {
        let n = 19, k = 150
        let original = format.quantize(QuantTestData.weights(n, k, seed: 3), outputs: n, inputs: k)
        // Copy the bytes elsewhere, as a cache file mapping would hold them.
        let copy = QuantizedBytes(sizes: original.segments.map(\.count))
        for (dst, src) in zip(copy.segments, original.segments) { dst.copyMemory(from: src) }
        let rebuilt = try format.rebuild(outputs: n, inputs: k, segments: copy.readOnly, owner: copy)
        #expect(rebuilt.byteCount == original.byteCount)
        #expect(QuantTestData.dequantized(rebuilt) == QuantTestData.dequantized(original))
        for m in [1, 6, 40] {
            var rng = SeededRNG(UInt64(m))
            let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            var a = [Float](repeating: 0, count: m * n), b = a
            original.multiply(x, m: m, ldx: k, &a, ldo: n, beta: 0)
            rebuilt.multiply(x, m: m, ldx: k, &b, ldo: n, beta: 0)
            #expect(a == b, "\(format) m=\(m)")
        }
        // Wrong shapes and counts are refused (16 more rows: q4 stores whole tiles of 16, so 19 and
        // 20 rows take the same bytes).
        #expect(throws: QuantizedMatrixError.self) {
            _ = try format.rebuild(outputs: n + 16, inputs: k, segments: copy.readOnly, owner: copy)
        }
        #expect(throws: QuantizedMatrixError.self) {
            _ = try format.rebuild(outputs: n, inputs: k, segments: Array(copy.readOnly.dropLast()), owner: copy)
        }
    }

    @Test func bytesPerWeight() {
        let n = 768, k = 768, w = [Float](repeating: 0.01, count: n * k)
        let perWeight = { (f: QuantFormat) in Double(f.quantize(w, outputs: n, inputs: k).byteCount) / Double(n * k) }
        #expect(perWeight(.int8) == 1 + 4.0 / 64)
        #expect(perWeight(.nf4Single) == 0.5 + 4.0 / 64)
        #expect(abs(perWeight(.nf4) - (0.5 + 1.0 / 64)) < 0.001)
        #expect(perWeight(.q4) == 0.5 + 4.0 / 32)
    }
}

/// ck_nf4_code (a C array, imported as a tuple) as an array.
let ck_nf4_codeArray: [Float] = withUnsafeBytes(of: ck_nf4_code) { Array($0.bindMemory(to: Float.self)) }

@Suite struct PackedFormatRegistryTests {
    @Test func everyQuantizedTypeIsRegistered() {
        for (type, format) in [(WeightType.int8, QuantFormat.int8), (.nf4, .nf4), (.q4, .q4)] {
            let t = PackedFormats.type(for: type)
            #expect(t?.weightType == type)
            // The registry's type builds the same matrix as the format's own initializer.
            let w = QuantTestData.weights(3, 70, seed: 9)
            if let t {
                let viaRegistry = t.init(quantizing: w, outputs: 3, inputs: 70)
                #expect(QuantTestData.dequantized(viaRegistry) == QuantTestData.dequantized(format.quantize(w, outputs: 3, inputs: 70)))
            }
        }
        for type in [WeightType.float32, .bfloat16, .float16] { #expect(PackedFormats.type(for: type) == nil) }
    }
}
