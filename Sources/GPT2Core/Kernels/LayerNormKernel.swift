// LayerNormKernel — out[r, :] = (x[r, :] − mean_r) / √(var_r + eps) · γ + β over rows of width C.
// Two-pass mean/variance in F32 with SIMD accumulation (biased variance, as torch.nn.LayerNorm).

enum LayerNormKernel {
    /// x and out are (rows, C) with row strides ldx / ldo; γ, β are (C).
    @_optimize(speed)
    static func apply(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, c: Int,
                      gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float,
                      _ out: UnsafeMutablePointer<Float>, ldo: Int) {
        Parallel.chunks(count: rows, minChunk: 32) { r0, r1 in
            for r in r0..<r1 { row(x + r * ldx, c, gamma, beta, eps, out + r * ldo) }
        }
    }

    @_optimize(speed)
    @inline(__always)
    static func row(_ x: UnsafePointer<Float>, _ c: Int, _ gamma: UnsafePointer<Float>,
                    _ beta: UnsafePointer<Float>, _ eps: Float, _ out: UnsafeMutablePointer<Float>) {
        let raw = UnsafeRawPointer(x)
        var acc = F8()
        var i = 0
        while i + 8 <= c { acc += raw.loadUnaligned(fromByteOffset: i * 4, as: F8.self); i += 8 }
        var sum = acc.sum()
        while i < c { sum += x[i]; i += 1 }
        let mean = sum / Float(c)
        let vmean = F8(repeating: mean)
        var accV = F8()
        i = 0
        while i + 8 <= c {
            let d = raw.loadUnaligned(fromByteOffset: i * 4, as: F8.self) - vmean
            accV += d * d; i += 8
        }
        var sq = accV.sum()
        while i < c { let d = x[i] - mean; sq += d * d; i += 1 }
        let rstd = 1 / (sq / Float(c) + eps).squareRoot()
        let vr = F8(repeating: rstd)
        let g = UnsafeRawPointer(gamma), b = UnsafeRawPointer(beta), o = UnsafeMutableRawPointer(out)
        i = 0
        while i + 8 <= c {
            let v = (raw.loadUnaligned(fromByteOffset: i * 4, as: F8.self) - vmean) * vr
            let y = v * g.loadUnaligned(fromByteOffset: i * 4, as: F8.self)
                + b.loadUnaligned(fromByteOffset: i * 4, as: F8.self)
            o.storeBytes(of: y, toByteOffset: i * 4, as: F8.self)
            i += 8
        }
        while i < c { out[i] = (x[i] - mean) * rstd * gamma[i] + beta[i]; i += 1 }
    }
}
