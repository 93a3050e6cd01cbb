// QuantizedStorage — what the three quantized formats (Int8Matrix, NF4Matrix, Q4Matrix) share:
// the bytes they own, the checks init(segments:) makes on bytes handed in, and the many-row
// (prefill) product, which widens column tiles of W into F32 and runs the F32 GEMM on them where
// the format's integer product is not the faster one.
import CKernels

/// Why bytes handed to a quantized matrix's init(segments:) cannot be used.
public enum QuantizedMatrixError: Error, Equatable, CustomStringConvertible {
    /// Wrong number of segments for the format.
    case segmentCount(format: WeightType, expected: String, got: Int)
    /// Segment `index` has `got` bytes where the shape needs `expected`.
    case segmentSize(format: WeightType, index: Int, expected: Int, got: Int)
    /// Segment `index` is not aligned to `alignment` bytes (F32 and binary16 arrays must be).
    case segmentAlignment(format: WeightType, index: Int, alignment: Int)

    public var description: String {
        switch self {
        case let .segmentCount(f, e, g): return "\(f): expected \(e) segments, got \(g)"
        case let .segmentSize(f, i, e, g): return "\(f): segment \(i) has \(g) bytes, expected \(e)"
        case let .segmentAlignment(f, i, a): return "\(f): segment \(i) is not \(a)-byte aligned"
        }
    }
}

/// Heap bytes a quantized matrix owns: one 64-byte-aligned allocation per segment, zero-filled.
final class QuantizedBytes: @unchecked Sendable {
    let segments: [UnsafeMutableRawBufferPointer]

    init(sizes: [Int]) {
        segments = sizes.map { size in
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: max(size, 1))
            return UnsafeMutableRawBufferPointer(start: p, count: size)
        }
    }

    deinit { for s in segments { s.baseAddress?.deallocate() } }

    var readOnly: [UnsafeRawBufferPointer] { segments.map { UnsafeRawBufferPointer($0) } }
}

enum QuantizedStorage {
    /// Checks segments handed to init(segments:) against the sizes and alignments the shape needs.
    static func validate(_ segments: [UnsafeRawBufferPointer], format: WeightType,
                         sizes: [Int], alignments: [Int]) throws {
        guard segments.count == sizes.count else {
            throw QuantizedMatrixError.segmentCount(format: format, expected: "\(sizes.count)", got: segments.count)
        }
        for (i, s) in segments.enumerated() {
            guard s.count == sizes[i] else {
                throw QuantizedMatrixError.segmentSize(format: format, index: i, expected: sizes[i], got: s.count)
            }
            if let base = s.baseAddress, Int(bitPattern: base) % alignments[i] != 0 {
                throw QuantizedMatrixError.segmentAlignment(format: format, index: i, alignment: alignments[i])
            }
        }
    }

    /// K rounded up to whole blocks of `block`.
    static func padded(_ k: Int, block: Int) -> Int { (k + block - 1) / block * block }

    /// Row counts up to this use the formats' int8 small-M products (decode and batched decode);
    /// more rows (prefill) widen W tile by tile to F32 and use the F32 GEMM, which at that many rows
    /// is compute-bound, so reading the quantized bytes costs it nothing — except where
    /// `integerPrefill` says the format's integer product is the faster one for any row count.
    static let smallMaxRows = 32

    /// The formats whose integer product beats their widened F32 tiles at prefill on VNNI: all four
    /// in tiles of 16 rows (prefill 512 on the Zen 5: int8 +20 to +34 %, q4 +15 to +29 %, nf4 +92 %,
    /// BENCHMARKS.md). The AVX2 bodies lose there (int8 −40 %).
    static let integerPrefillFormats: Set<WeightType> = [.int8, .q4, .nf4, .fp4]

    /// Whether `format`'s products of any row count take its integer product (on this thread, at
    /// its quantized body level now). Then a row's result no longer depends on whether it came in a
    /// prefill or in a decode step.
    static func integerPrefill(_ format: WeightType) -> Bool {
        integerPrefillFormats.contains(format) && ck_quant_level() == CK_QUANT_VNNI
    }

    /// F32 elements per widened tile of W (4 MiB): whole rows, at least 16.
    static let tileElements = 1 << 20

    /// out[i, j] = beta·out[i, j] + Σ_p x[i, p]·W[j, p] for m rows by tiles of W's rows: each tile
    /// rows [j0, j1) is widened by `dequantize(j0, j1, tile)` (row stride K) and multiplied with
    /// Matmul.linear into out's columns [j0, j1).
    static func tiledProduct(_ x: UnsafePointer<Float>, m: Int, ldx: Int, outputs n: Int, inputs k: Int,
                             _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float,
                             dequantize: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let rows = min(n, max(16, tileElements / max(k, 1)))
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: rows * k)
        defer { tile.deallocate() }
        var j0 = 0
        while j0 < n {
            let j1 = min(n, j0 + rows)
            dequantize(j0, j1, tile)
            Matmul.linear(x, m: m, k: k, ldx: ldx, tile, n: j1 - j0, out + j0, ldo: ldo, beta: beta)
            j0 = j1
        }
    }

    /// The product of every packed format, over its C matrix descriptor `matrix`: up to smallMaxRows
    /// rows (any number where the matrix allows `integerPrefill` and integerPrefill(format) holds)
    /// through the format's integer kernel `small(w, x, m, ldx, out, ldo, beta)` (0 = out of
    /// scratch), more rows through tiles widened by `dequantizeRows(w, j0, j1, tile)` (tiledProduct).
    static func product<Descriptor>(_ matrix: Descriptor, format: WeightType, integerPrefill allowed: Bool,
                                    outputs: Int, inputs: Int,
                                    _ x: UnsafePointer<Float>, m: Int, ldx: Int,
                                    _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float,
                                    small: (UnsafePointer<Descriptor>, UnsafePointer<Float>, Int, Int,
                                            UnsafeMutablePointer<Float>, Int, Float) -> Int32,
                                    dequantizeRows: (UnsafePointer<Descriptor>, Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        guard m > 0, outputs > 0 else { return }
        _ = honourGenericCPU
        withUnsafePointer(to: matrix) { w in
            if m <= smallMaxRows || (allowed && integerPrefill(format)) {
                check(small(w, x, m, ldx, out, ldo, beta), format)
            } else {
                tiledProduct(x, m: m, ldx: ldx, outputs: outputs, inputs: inputs, out, ldo: ldo, beta: beta) { j0, j1, tile in
                    dequantizeRows(w, j0, j1, tile)
                }
            }
        }
    }

    /// GPT2D_CPU=generic (CPUFeatures.forcedGeneric) puts the products on their portable C bodies,
    /// once, before the first product runs.
    static let honourGenericCPU: Void = { if CPUFeatures.forcedGeneric { ck_quant_set_process_level_cap(CK_QUANT_PORTABLE) } }()

    /// Stops on a failed scratch allocation in a C product (the only way they fail).
    static func check(_ ok: Int32, _ format: WeightType) {
        precondition(ok != 0, "\(format) product: out of memory for its activation scratch")
    }
}
