// The 16-bit-weight small-M kernels (ck_matmul_kn_w16 / ck_matmul_nk_w16 and their parallel
// wrappers) against the F32 kernels run on the same values upcast to F32: the widening is exact
// and the FMAs run in the same order, so the results must be identical (the feature's bound is
// 1e-6 relative; equality is what the kernels promise). Every row count 1...16, odd k and n (ragged
// 16-bit tails), strided x/w/y, a W base that is only 2-byte aligned, beta 0 over NaN and beta 1,
// both layouts, both kinds, and k large enough for the threaded K split.
import CKernels
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct HalfWeightKernelTests {
    /// More than one thread, so the threaded splits run (K split when k ≥ 256·threads).
    init() { TestThreads.configure() }

    /// Random finite 16-bit patterns of `kind`, magnitudes about 2^-14...2 (F16 includes subnormals).
    static func randomBits(_ count: Int, kind: HalfView.Kind, _ rng: inout some RandomNumberGenerator) -> [UInt16] {
        (0..<count).map { _ in
            let sign = UInt16.random(in: 0...1, using: &rng) << 15
            switch kind {
            case .f16: return sign | UInt16.random(in: 0...15, using: &rng) << 10 | UInt16.random(in: 0...0x3FF, using: &rng)
            case .bf16: return sign | UInt16.random(in: 113...127, using: &rng) << 7 | UInt16.random(in: 0...0x7F, using: &rng)
            }
        }
    }

    static func upcast(_ bits: [UInt16], kind: HalfView.Kind) -> [Float] {
        bits.map { kind == .f16 ? float32(fromF16Bits: $0) : float32(fromBF16Bits: $0) }
    }

    static func maxRelDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(abs($1.1), 1e-30)) }
    }

    @Test(arguments: Array(1...16))
    func halfKernelsEqualF32Kernels(_ m: Int) {
        var rng = SplitMix64(seed: UInt64(m))  // seeded: failures reproduce (and no getrandom call per number)
        for kind in [HalfView.Kind.f16, .bf16] {
            for (k, n) in [(37, 53), (300, 70), (1100, 45), (64, 33)] {
                for nk in [false, true] {
                    // Strides: x 3 spare columns, y 2, W rows 5 spare elements.
                    let ldx = k + 3, ldy = n + 2, ldw = (nk ? k : n) + 5, rows = nk ? n : k
                    let x = (0..<(m * ldx)).map { _ in Float.random(in: -1...1, using: &rng) }
                    let bits = Self.randomBits(rows * ldw, kind: kind, &rng)
                    let w32 = Self.upcast(bits, kind: kind)
                    // The 16-bit W starts 2 bytes into the buffer: 2-byte aligned, not 4.
                    let w16 = [UInt16(0)] + bits
                    for beta: Float in [0, 1] {
                        let y0: [Float] = beta == 0 ? .init(repeating: .nan, count: m * ldy)
                                                    : (0..<(m * ldy)).map { _ in Float.random(in: -1...1, using: &rng) }
                        var want = y0, got = y0, wantPar = y0, gotPar = y0
                        w16.withUnsafeBytes { raw in
                            let wp = raw.baseAddress! + 2, ck = kind.ckKind
                            if m <= 8 {  // the single-thread kernels take up to 8 rows
                                if nk {
                                    ck_matmul_nk(x, m, k, ldx, w32, ldw, n, &want, ldy, beta)
                                    ck_matmul_nk_w16(x, m, k, ldx, wp, ck, ldw, n, &got, ldy, beta)
                                } else {
                                    ck_matmul_kn(x, m, k, ldx, w32, ldw, n, &want, ldy, beta)
                                    ck_matmul_kn_w16(x, m, k, ldx, wp, ck, ldw, n, &got, ldy, beta)
                                }
                            }
                            if nk {
                                ck_matmul_nk_parallel(x, m, k, ldx, w32, ldw, n, &wantPar, ldy, beta)
                                ck_matmul_nk_w16_parallel(x, m, k, ldx, wp, ck, ldw, n, &gotPar, ldy, beta)
                            } else {
                                ck_matmul_kn_parallel(x, m, k, ldx, w32, ldw, n, &wantPar, ldy, beta)
                                ck_matmul_kn_w16_parallel(x, m, k, ldx, wp, ck, ldw, n, &gotPar, ldy, beta)
                            }
                        }
                        let label = "\(kind) \(nk ? "nk" : "kn") m=\(m) k=\(k) n=\(n) beta=\(beta)"
                        let cells = (0..<m).flatMap { i in (0..<n).map { i * ldy + $0 } }
                        #expect(cells.allSatisfy { wantPar[$0].isFinite }, "\(label): F32 reference has NaN")
                        #expect(Self.maxRelDiff(cells.map { gotPar[$0] }, cells.map { wantPar[$0] }) <= 1e-6, "\(label) parallel")
                        #expect(gotPar.elementsEqual(wantPar) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(label) parallel: not bit-identical")
                        if m <= 8 {
                            #expect(got.elementsEqual(want) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(label) single: not identical")
                        }
                        // Spare y columns are never written (still NaN / their old values).
                        #expect((0..<m).allSatisfy { i in (n..<ldy).allSatisfy { c in
                            let a = gotPar[i * ldy + c], b = y0[i * ldy + c]
                            return a == b || (a.isNaN && b.isNaN)
                        } }, "\(label): wrote past n")
                    }
                }
            }
        }
    }

    /// Matmul's dispatch: with a HalfView, conv1D / linear give the F32 path's results for every row
    /// count (≤ 16 rows read the 16-bit weights, more rows the F32 copy).
    @Test(arguments: [1, 5, 16, 17])
    func matmulWithHalfViewEqualsF32(_ m: Int) {
        var rng = SplitMix64(seed: 100 + UInt64(m))
        let k = 600, n = 96
        for kind in [HalfView.Kind.f16, .bf16] {
            let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let bits = Self.randomBits(k * n, kind: kind, &rng)
            let w32 = Self.upcast(bits, kind: kind)
            for beta: Float in [0, 1] {
                let y0 = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &rng) }
                var kn32 = y0, kn16 = y0, nk32 = y0, nk16 = y0
                bits.withUnsafeBytes { raw in
                    let half = HalfView(kind: kind, data: raw.baseAddress!)
                    Matmul.conv1D(x, m: m, k: k, w32, n: n, &kn32, beta: beta)
                    Matmul.conv1D(x, m: m, k: k, w32, half: half, n: n, &kn16, beta: beta)
                    Matmul.linear(x, m: m, k: k, w32, n: n, &nk32, beta: beta)  // w read as [n, k]
                    Matmul.linear(x, m: m, k: k, w32, half: half, n: n, &nk16, beta: beta)
                }
                #expect(Self.maxRelDiff(kn16, kn32) <= 1e-6, "conv1D \(kind) m=\(m) beta=\(beta)")
                #expect(Self.maxRelDiff(nk16, nk32) <= 1e-6, "linear \(kind) m=\(m) beta=\(beta)")
            }
        }
    }
}
