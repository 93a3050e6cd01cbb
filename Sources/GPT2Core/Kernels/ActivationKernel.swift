// ActivationKernel — applies the config's MLP activation in place to a (rows, F) buffer.
// Formulas follow transformers' ACT2FN (see GPT2Config.Activation).
import CKernels
import Foundation

enum ActivationKernel {
    /// x[0..<count] = act(x), in place.
    @_optimize(speed)
    static func apply(_ act: Activation, _ x: UnsafeMutablePointer<Float>, count: Int) {
        let tanhGelu = CPUFeatures.avx512 && (act == .geluNew || act == .geluPytorchTanh || act == .geluFast)
        Parallel.chunks(count: count, minChunk: 16384) { start, end in
            if tanhGelu { ck_gelu_tanh(x + start, end - start) } else { applyRange(act, x, start, end) }
        }
    }

    @_optimize(speed)
    @inline(__always)
    private static func applyRange(_ act: Activation, _ x: UnsafeMutablePointer<Float>, _ start: Int, _ end: Int) {
        var i = start
        let raw = UnsafeMutableRawPointer(x)
        // Vector body (unaligned loads are fine on x86-64).
        while i + 8 <= end {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: F8.self)
            raw.storeBytes(of: vector(act, v), toByteOffset: i * 4, as: F8.self)
            i += 8
        }
        while i < end { x[i] = scalar(act, x[i]); i += 1 }
    }

    @_optimize(speed)
    @inline(__always)
    static func vector(_ act: Activation, _ v: F8) -> F8 {
        let half = F8(repeating: 0.5), one = F8(repeating: 1)
        switch act {
        case .geluNew, .geluPytorchTanh:
            let inner = F8(repeating: 0.7978845608028654) * (v + F8(repeating: 0.044715) * v * v * v)
            return half * v * (one + VectorMath.tanh(inner))
        case .geluFast:
            let inner = F8(repeating: 0.7978845608) * v * (one + F8(repeating: 0.044715) * v * v)
            return half * v * (one + VectorMath.tanh(inner))
        case .quickGelu:
            return v * VectorMath.sigmoid(F8(repeating: 1.702) * v)
        case .silu, .swish:
            return v * VectorMath.sigmoid(v)
        case .relu:
            return v.replacing(with: 0, where: v .< 0)
        case .tanh:
            return VectorMath.tanh(v)
        case .sigmoid:
            return VectorMath.sigmoid(v)
        case .linear:
            return v
        case .gelu:
            var out = F8()
            for l in 0..<8 { out[l] = scalar(.gelu, v[l]) }
            return out
        }
    }

    @_optimize(speed)
    @inline(__always)
    static func scalar(_ act: Activation, _ x: Float) -> Float {
        switch act {
        case .gelu:
            // Exact erf form, in Double for accuracy: 0.5·x·(1 + erf(x/√2)).
            let d = Double(x)
            return Float(0.5 * d * (1 + erf(d * 0.7071067811865476)))
        default:
            return vector(act, F8(repeating: x))[0]
        }
    }
}
