// Helpers for the quantized-format tests: the formats behind one type, seeded random data,
// and the products' error bound.
import CKernels
import Foundation
@testable import GPT2Core

enum QuantFormat: String, CaseIterable, CustomStringConvertible, Sendable {
    /// nf4Medium: nf4 served at matmul precision medium (one-part 8-bit product codes).
    case int8, nf4, nf4Single, nf4Medium, q4, fp4

    var description: String { rawValue }

    /// Values per scale block along K (the activations are quantized in the same blocks).
    var block: Int {
        switch self {
        case .int8: return Int8Matrix.block
        case .nf4, .nf4Single, .nf4Medium: return NF4Matrix.block
        case .q4: return Q4Matrix.group
        case .fp4: return FP4Matrix.block
        }
    }

    func quantize(_ w: [Float], outputs: Int, inputs: Int) -> any PackedMatrix {
        switch self {
        case .int8: return Int8Matrix(quantizing: w, outputs: outputs, inputs: inputs)
        case .nf4: return NF4Matrix(quantizing: w, outputs: outputs, inputs: inputs)
        case .nf4Single: return NF4Matrix(quantizing: w, outputs: outputs, inputs: inputs, doubleQuantization: false)
        case .nf4Medium: return NF4Matrix(quantizing: w, outputs: outputs, inputs: inputs).serving(precision: .medium)
        case .q4: return Q4Matrix(quantizing: w, outputs: outputs, inputs: inputs)
        case .fp4: return FP4Matrix(quantizing: w, outputs: outputs, inputs: inputs)
        }
    }

    func rebuild(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws -> any PackedMatrix {
        switch self {
        case .int8: return try Int8Matrix(outputs: outputs, inputs: inputs, segments: segments, owner: owner)
        case .nf4, .nf4Single: return try NF4Matrix(outputs: outputs, inputs: inputs, segments: segments, owner: owner)
        case .nf4Medium:
            return try NF4Matrix(outputs: outputs, inputs: inputs, segments: segments, owner: owner).serving(precision: .medium)
        case .q4: return try Q4Matrix(outputs: outputs, inputs: inputs, segments: segments, owner: owner)
        case .fp4: return try FP4Matrix(outputs: outputs, inputs: inputs, segments: segments, owner: owner)
        }
    }

    /// Largest |weight error| of one product weight beyond dequantizeRow's value, relative to the
    /// block's largest |dequantized weight|: nf4's and fp4's products use round(16383·code)/16383 (≤ 2^-15),
    /// at matmul precision medium round(127·code)/127 (≤ 1/254).
    var productCodeError: Double {
        switch self {
        case .nf4, .nf4Single, .fp4: return 1.0 / 32766
        case .nf4Medium: return 1.0 / 254
        case .int8, .q4: return 0
        }
    }
}

/// A small seeded generator (SplitMix64) so failures reproduce.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal value (Box–Muller).
    mutating func normal() -> Float {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self), v = Double.random(in: 0..<1, using: &self)
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}

enum QuantTestData {
    /// The body levels of the quantized products this CPU runs, best first (CK_QUANT_VNNI where the
    /// CPU has AVX-512 VNNI, then CK_QUANT_AVX2, then CK_QUANT_PORTABLE).
    static let levels: [Int32] = {
        ck_quant_set_level_cap(CK_QUANT_VNNI)
        return (CK_QUANT_PORTABLE...ck_quant_level()).reversed()
    }()

    /// n × k normal values × 0.02 (GPT-2's init scale); row 1 all zeros, row 2 × 50 when present.
    static func weights(_ n: Int, _ k: Int, seed: UInt64) -> [Float] {
        var rng = SeededRNG(seed)
        var w = (0..<(n * k)).map { _ in 0.02 * rng.normal() }
        if n > 1 { for p in 0..<k { w[k + p] = 0 } }
        if n > 2 { for p in 0..<k { w[2 * k + p] *= 50 } }
        return w
    }

    /// Every row of `m` dequantized, (outputs, inputs) row-major.
    static func dequantized(_ m: any PackedMatrix) -> [Float] {
        var out = [Float](repeating: 0, count: m.outputs * m.inputs)
        out.withUnsafeMutableBufferPointer { b in
            for j in 0..<m.outputs { m.dequantizeRow(j, into: b.baseAddress! + j * m.inputs) }
        }
        return out
    }

    /// Largest |value| of each block of `block` values of each row (rows × ⌈cols / block⌉).
    static func blockMax(_ a: [Float], rows: Int, cols: Int, stride: Int, block: Int) -> [Double] {
        let nb = (cols + block - 1) / block
        var out = [Double](repeating: 0, count: rows * nb)
        for r in 0..<rows { for p in 0..<cols { out[r * nb + p / block] = max(out[r * nb + p / block], Double(abs(a[r * stride + p]))) } }
        return out
    }

    /// The bound on |product − Σ x·w_deq| for output (i, j): each activation is off by at most half
    /// its int8 step (block absmax / 254) and each product weight by `codeError`·its block's max
    /// |w|, plus F32 accumulation (1e-5 of Σ|x·w|). `xMax`/`wMax` from blockMax; `small`: the
    /// int8 products ran (else the F32 GEMM on the dequantized weights: rounding only).
    static func bound(x: UnsafePointer<Float>, w: UnsafePointer<Float>, k: Int, block: Int,
                      xMax: ArraySlice<Double>, wMax: ArraySlice<Double>, codeError: Double, small: Bool) -> Double {
        var total = 0.0, magnitude = 0.0
        let x0 = xMax.startIndex, w0 = wMax.startIndex
        for p in 0..<k {
            let xv = Double(x[p]), wv = Double(w[p])
            magnitude += abs(xv * wv)
            if small { total += abs(wv) * xMax[x0 + p / block] / 254 * 1.0001 + abs(xv) * wMax[w0 + p / block] * codeError }
        }
        return total + 1e-5 * magnitude + 1e-30
    }
}
