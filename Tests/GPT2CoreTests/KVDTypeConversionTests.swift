// The KV cache's 16-bit element conversions (ck_kv_store / ck_kv_load and their portable twins):
// F32 → float16 rounds to nearest even exactly like Swift's Float16(_:) (overflow to ±inf,
// subnormals, NaN stays NaN); F32 → bfloat16 rounds to nearest even (checked against the two
// neighbouring bfloat16 values in Double); widening is exact; the AVX2 and portable versions
// give the same bits, for lengths with ragged 16-element tails.
import CKernels
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct KVDTypeConversionTests {
    /// Edge values and random F32 bit patterns over the whole range.
    static let inputs: [Float] = {
        var v: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 65536, -65520, 1e10, .infinity, -.infinity,
                          0x1p-14, 0x1p-24, 0x1p-25, 0x1.000002p-25, 0x1.8p-24, 0x1p-26, 0x1.fffffep-15,
                          1 + 0x1p-11, 1 + 0x1p-11 + 0x1p-23, 1 + 3 * 0x1p-11, 1 + 0x1p-8, 1 + 3 * 0x1p-8,
                          Float.greatestFiniteMagnitude, .leastNonzeroMagnitude, .nan, -.nan]
        var rng = SplitMix64(seed: 77)
        for _ in 0..<4000 { v.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for _ in 0..<4000 { v.append(rng.float(scale: 8)) }
        return v
    }()

    static func narrow(_ x: [Float], _ kind: KVDType, portable: Bool) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: x.count)
        if portable { ck_kv_store_portable(x, &out, x.count, kind.ckKind) } else { ck_kv_store(x, &out, x.count, kind.ckKind) }
        return out
    }

    static func widen(_ h: [UInt16], _ kind: KVDType, portable: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: h.count)
        if portable { ck_kv_load_portable(h, &out, h.count, kind.ckKind) } else { ck_kv_load(h, &out, h.count, kind.ckKind) }
        return out
    }

    @Test func float16RoundsLikeSwiftFloat16() {
        let got = Self.narrow(Self.inputs, .float16, portable: true)
        for (x, h) in zip(Self.inputs, got) {
            let want = Float16(x)
            if x.isNaN { #expect(Float16(bitPattern: h).isNaN && (h & 0x8000) == (x.sign == .minus ? 0x8000 : 0)) }
            else { #expect(h == want.bitPattern, "\(x): \(String(h, radix: 16)) vs \(String(want.bitPattern, radix: 16))") }
        }
        // Widening is exact: every one of the 65536 patterns.
        let all = (0...UInt16.max).map { $0 }
        for (h, f) in zip(all, Self.widen(all, .float16, portable: true)) {
            let want = Float(Float16(bitPattern: h))
            #expect(f.bitPattern == want.bitPattern || (f.isNaN && want.isNaN))
        }
    }

    @Test func bfloat16RoundsToNearestEven() {
        let got = Self.narrow(Self.inputs, .bfloat16, portable: true)
        for (x, b) in zip(Self.inputs, got) {
            let f = Float(bitPattern: UInt32(b) << 16)
            if x.isNaN { #expect(f.isNaN); continue }
            if !x.isFinite { #expect(f == x); continue }
            // The two bfloat16 neighbours of x: truncation and one unit further from 0 (in Double,
            // so the unit past the largest finite value is 2^128, not inf).
            let lo = Float(bitPattern: x.bitPattern & 0xFFFF_0000)
            let hi = Float(bitPattern: (x.bitPattern & 0xFFFF_0000) &+ 0x1_0000)
            let exponent = Int((x.bitPattern >> 23) & 0xFF)
            let unit = Double(sign: .plus, exponent: max(exponent, 1) - 127 - 7, significand: 1)
            let hiValue = Double(lo) + (x.sign == .minus ? -unit : unit)
            let dlo = abs(Double(x) - Double(lo)), dhi = abs(Double(x) - hiValue)
            let want = dlo < dhi ? lo : dhi < dlo ? hi : ((lo.bitPattern >> 16) & 1 == 0 ? lo : hi)
            #expect(f.bitPattern == want.bitPattern, "\(x) → \(f), want \(want)")
        }
    }

    @Test(.enabled(if: KVDType.simd), arguments: [KVDType.float16, .bfloat16])
    func avx2EqualsPortable(_ kind: KVDType) {
        for n in [1, 15, 16, 17, 100, Self.inputs.count] {
            let x = Array(Self.inputs.suffix(n))
            let fast = Self.narrow(x, kind, portable: false), plain = Self.narrow(x, kind, portable: true)
            #expect(fast == plain, "\(kind) n \(n)")
            #expect(Self.widen(fast, kind, portable: false).map(\.bitPattern) == Self.widen(fast, kind, portable: true).map(\.bitPattern))
        }
    }

    /// float32 stores are copies; the Swift entry points round-trip through the pool's element type.
    @Test(arguments: KVDType.allCases)
    func storeThenLoadKeepsRoundedValues(_ kind: KVDType) {
        var raw = [UInt8](repeating: 0, count: 4 * 37)
        let x = (0..<37).map { Float($0) * 0.1234567 - 2 }
        var back = [Float](repeating: .nan, count: 37)
        raw.withUnsafeMutableBytes { kind.store(x, to: $0.baseAddress!, count: 37) }
        raw.withUnsafeBytes { kind.load($0.baseAddress!, to: &back, count: 37) }
        switch kind {
        case .float32: #expect(back == x)
        case .float16: #expect(back == x.map { Float(Float16($0)) })
        case .bfloat16: #expect(zip(back, x).allSatisfy { abs($0 - $1) <= abs($1) * 0x1p-8 })
        }
    }
}
