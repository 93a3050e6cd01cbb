// Plain references for the kernel tests: a seeded generator, double-precision products, 16-bit weight
// encodings, and the float32 rounding bound the comparisons use.
import CKernels

/// The packed GEMM and the elementwise kernels are AVX-512F code only: on a CPU without it their tests
/// are reported as skipped, with this reason, never run (they would fault). The small-M kernels run on
/// every CPU (their levels are in SmallMatmulTests.levels).
let hasAVX512 = ck_has_avx512() != 0
let needsAVX512 = "this CPU lacks AVX-512F (ck_has_avx512() == 0); the kernel would fault"

/// SplitMix64: the same numbers on every run.
struct SeededRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }

    mutating func floats(_ count: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<count).map { _ in float(lo, hi) }
    }
}

/// A row-major matrix [rows, cols] stored with row stride `ld` (≥ cols); padding holds `pad`.
struct Matrix {
    let rows: Int, cols: Int, ld: Int
    var data: [Float]

    init(rows: Int, cols: Int, ld: Int, pad: Float = 0, _ value: (Int, Int) -> Float) {
        self.rows = rows
        self.cols = cols
        self.ld = ld
        data = [Float](repeating: pad, count: max(rows * ld, 1))
        for i in 0..<rows { for j in 0..<cols { data[i * ld + j] = value(i, j) } }
    }

    static func random(_ rows: Int, _ cols: Int, ld: Int, _ rng: inout SeededRandom) -> Matrix {
        Matrix(rows: rows, cols: cols, ld: ld, pad: .nan) { _, _ in rng.float() }
    }

    subscript(i: Int, j: Int) -> Float { data[i * ld + j] }
}

/// The float32 result of a kernel next to its double-precision reference.
struct Expectation {
    /// ref = beta·c + alpha·Σ a·b, computed in double.
    var value: Double
    /// Σ |terms| (the scale of the rounding error).
    var magnitude: Double
    /// Roundings on the longest path (the k products and sums, alpha, beta).
    var steps: Int

    /// Each float32 rounding adds at most 2^-24 relative to the magnitude (γ_n ≤ n·u / (1 − n·u)); the
    /// factor 2 covers the 1 / (1 − n·u) term and the tree order of the sums.
    func admits(_ got: Float) -> Bool {
        let bound = 2 * Double(steps) * 0x1p-24 * magnitude + Double(Float.leastNormalMagnitude)
        return abs(Double(got) - value) <= bound
    }
}

/// C = alpha · A · op(B) + beta · C0 in double; op(B) = Bᵀ when `transB` (B is [n, k]).
func referenceProduct(_ a: Matrix, _ b: Matrix, transB: Bool, alpha: Double, beta: Double, c0: Matrix?)
    -> [[Expectation]]
{
    let m = a.rows, k = a.cols, n = transB ? b.rows : b.cols
    var out = [[Expectation]]()
    for i in 0..<m {
        var row = [Expectation]()
        for j in 0..<n {
            var sum = 0.0, mag = 0.0
            for p in 0..<k {
                let t = Double(a[i, p]) * Double(transB ? b[j, p] : b[p, j])
                sum += t
                mag += abs(t)
            }
            let prior = beta == 0 ? 0 : beta * Double(c0![i, j])
            row.append(Expectation(value: alpha * sum + prior, magnitude: abs(alpha) * mag + abs(prior), steps: k + 3))
        }
        out.append(row)
    }
    return out
}

/// 16-bit weight encodings (ckernels.h's CK_HALF_*) and their exact F32 values.
enum HalfKind: CaseIterable {
    case f16, bf16

    var ck: Int32 { self == .f16 ? Int32(CK_HALF_F16) : Int32(CK_HALF_BF16) }

    /// Rounds `x` to this kind; returns the stored bits and the value they stand for.
    func encode(_ x: Float) -> (bits: UInt16, value: Float) {
        switch self {
        case .f16:
            let h = Float16(x)
            return (h.bitPattern, Float(h))
        case .bf16:
            let bits = UInt16(truncatingIfNeeded: x.bitPattern >> 16)
            return (bits, Float(bitPattern: UInt32(bits) << 16))
        }
    }
}

/// The first position of `got` whose value its expectation does not admit, as a message (nil: all fine).
func mismatch(_ got: Matrix, _ want: [[Expectation]], _ what: String) -> String? {
    for i in want.indices {
        for j in want[i].indices where !want[i][j].admits(got[i, j]) {
            return "\(what): [\(i), \(j)] = \(got[i, j]), want \(want[i][j].value)"
        }
    }
    return nil
}

/// True when every padding element (columns ≥ cols) still holds `pad` (NaN pads compare as NaN).
func paddingIntact(_ m: Matrix, pad: Float) -> Bool {
    for i in 0..<m.rows {
        for j in m.cols..<m.ld {
            let v = m.data[i * m.ld + j]
            if pad.isNaN ? !v.isNaN : v != pad { return false }
        }
    }
    return true
}
