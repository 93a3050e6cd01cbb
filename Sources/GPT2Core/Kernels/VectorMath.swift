// VectorMath — SIMD elementwise math (exp, tanh, erf) accurate to a few ulp, for the activations.
// Swift has no vector libm; scalar expf/tanhf per element would dominate prefill time.

typealias F8 = SIMD8<Float>

enum VectorMath {
    /// exp(x) for 8 lanes, Cephes-style: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial, scale by 2^n.
    /// Relative error ≈ 2e-7 over [-87, 88]; clamps outside (0 below, +large above).
    @_optimize(speed)
    @inline(__always)
    static func exp(_ xIn: F8) -> F8 {
        // Clamp with lane selects (SIMD.clamped is not specialised and costs a call per vector).
        let lo = F8(repeating: -87.3), hi = F8(repeating: 88.3)
        var x = xIn.replacing(with: lo, where: xIn .< lo)
        x.replace(with: hi, where: x .> hi)
        let log2e = F8(repeating: 1.44269504088896341)
        var n = (x * log2e).rounded(.toNearestOrEven)
        // Cody–Waite split of ln2 so r keeps full precision.
        var r = x - n * F8(repeating: 0.693359375)
        r = r + n * F8(repeating: 2.12194440e-4)
        let r2 = r * r
        var p = F8(repeating: 1.9875691500e-4)
        p = p * r + F8(repeating: 1.3981999507e-3)
        p = p * r + F8(repeating: 8.3334519073e-3)
        p = p * r + F8(repeating: 4.1665795894e-2)
        p = p * r + F8(repeating: 1.6666665459e-1)
        p = p * r + F8(repeating: 5.0000001201e-1)
        let y = p * r2 + r + F8(repeating: 1)
        // 2^n via the exponent field; n in [-126, 127] after the clamp (n = -126 handles the low end).
        // Integer n + 127 is read off the mantissa of (n + 127 + 2^23), avoiding a per-lane conversion.
        n.replace(with: F8(repeating: -126), where: n .< -126)
        let biased = unsafeBitCast(n + F8(repeating: 127 + 8_388_608), to: SIMD8<Int32>.self) &- 0x4B00_0000
        let scale = unsafeBitCast(biased &<< 23, to: F8.self)
        return y * scale
    }

    /// tanh(x) = sign(x)·(1 − e)/(1 + e), e = exp(−2|x|). Absolute error ≈ 1e-7.
    @_optimize(speed)
    @inline(__always)
    static func tanh(_ x: F8) -> F8 {
        let ax = x.replacing(with: -x, where: x .< 0)
        let e = exp(F8(repeating: -2) * ax)
        let t = (F8(repeating: 1) - e) / (F8(repeating: 1) + e)
        return t.replacing(with: -t, where: x .< 0)
    }

    /// 1 / (1 + exp(−x)).
    @_optimize(speed)
    @inline(__always)
    static func sigmoid(_ x: F8) -> F8 {
        F8(repeating: 1) / (F8(repeating: 1) + exp(-x))
    }
}
