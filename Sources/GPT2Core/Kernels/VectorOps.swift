// VectorOps — small SIMD helpers shared by the kernels: dot, axpy, add, scale, max.
import CKernels

enum VectorOps {
    /// Σ a[i]·b[i] for i < n.
    @_optimize(speed)
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = F8(), acc1 = F8()
        var i = 0
        while i + 16 <= n {
            acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: F8.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: F8.self)
            acc1 += ra.loadUnaligned(fromByteOffset: i * 4 + 32, as: F8.self) * rb.loadUnaligned(fromByteOffset: i * 4 + 32, as: F8.self)
            i += 16
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// y[i] += alpha·x[i] for i < n.
    @_optimize(speed)
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        let va = F8(repeating: alpha)
        var i = 0
        while i + 8 <= n {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: F8.self) + va * rx.loadUnaligned(fromByteOffset: i * 4, as: F8.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: F8.self)
            i += 8
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// y[i] += x[i] for i < n.
    @_optimize(speed)
    @inline(__always)
    static func add(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        axpy(1, x, y, n)
    }

    /// x[i] = exp(x[i] − shift) for i < n; returns Σ of the results.
    @_optimize(speed)
    @inline(__always)
    static func expShiftedSum(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        if CPUFeatures.avx512 { return ck_exp_shifted_sum(x, n, shift) }
        let r = UnsafeMutableRawPointer(x)
        let vs = F8(repeating: shift)
        var acc = F8()
        var i = 0
        while i + 8 <= n {
            let e = VectorMath.exp(r.loadUnaligned(fromByteOffset: i * 4, as: F8.self) - vs)
            r.storeBytes(of: e, toByteOffset: i * 4, as: F8.self)
            acc += e; i += 8
        }
        var s = acc.sum()
        while i < n {
            let e = VectorMath.exp(F8(repeating: x[i] - shift))[0]
            x[i] = e; s += e; i += 1
        }
        return s
    }

    /// max of x[0..<n] (n ≥ 1).
    @_optimize(speed)
    @inline(__always)
    static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = x[0]
        var i = 1
        while i < n { if x[i] > m { m = x[i] }; i += 1 }
        return m
    }

    /// x[i] *= s for i < n.
    @_optimize(speed)
    @inline(__always)
    static func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float) {
        let r = UnsafeMutableRawPointer(x)
        let v = F8(repeating: s)
        var i = 0
        while i + 8 <= n {
            r.storeBytes(of: r.loadUnaligned(fromByteOffset: i * 4, as: F8.self) * v, toByteOffset: i * 4, as: F8.self)
            i += 8
        }
        while i < n { x[i] *= s; i += 1 }
    }
}
