// GGUFDequantize — ggml's quantized blocks widened to F32 exactly as ggml's reference
// dequantize_row_q8_0 / _q4_0 / _q6_K compute them (ggml-quants.c), in the same float operations
// and order, so the values are bit-identical to llama.cpp's (and gguf-py's) dequantized weights:
//   Q8_0  w = Float(q) · d                         (an exact product: 8 × 11 significant bits)
//   Q4_0  w = Float(q − 8) · d                     (exact)
//   Q6_K  w = (d · Float(scale)) · Float(q − 32)   (d·scale is exact; the second product rounds,
//                                                   so the order matters and is ggml's)
// d is the block's binary16 scale widened exactly. Layouts: GGMLType.

enum GGUFDequantize {
    /// `count` values (whole blocks of `type`) at `src` → `dst`. F32 / F16 / BF16 are copied / widened.
    static func values(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        let blocks = count / type.blockSize
        switch type {
        case .f32: copyF32(src, to: dst, count: count)
        case .f16: convertF16(src, to: dst, count: count)
        case .bf16: convertBF16(src, to: dst, count: count)
        case .q8_0: for b in 0..<blocks { q8_0(src + b * 34, into: dst + b * 32) }
        case .q4_0: for b in 0..<blocks { q4_0(src + b * 18, into: dst + b * 32) }
        case .q6_K: for b in 0..<blocks { q6_K(src + b * 210, into: dst + b * 256) }
        }
    }

    /// The binary16 at `p` widened.
    @inline(__always)
    static func half(_ p: UnsafeRawPointer) -> Float { widenF16(p.littleEndian(UInt16.self)) }

    /// One Q8_0 block (34 bytes) → 32 values.
    static func q8_0(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = half(block)
        let q = (block + 2).assumingMemoryBound(to: Int8.self)
        for j in 0..<32 { y[j] = Float(q[j]) * d }
    }

    /// One Q4_0 block (18 bytes) → 32 values: byte t's low nibble is value t, its high nibble value t + 16.
    static func q4_0(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = half(block)
        let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            y[j] = Float(Int(qs[j] & 0x0F) - 8) * d
            y[j + 16] = Float(Int(qs[j] >> 4) - 8) * d
        }
    }

    /// One Q6_K super-block (210 bytes) → 256 values, in two halves of 128: value l + 32·i of a half
    /// (i = 0…3) takes its low 4 bits from ql[l + 32·(i & 1)] (low nibble for i < 2, high otherwise),
    /// its high 2 bits from qh[l] bits 2i, 2i+1, and scale sc[l / 16 + 2i].
    static func q6_K(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = half(block + 208)
        var ql = block.assumingMemoryBound(to: UInt8.self)
        var qh = (block + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (block + 192).assumingMemoryBound(to: Int8.self)
        var y = out
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int(ql[l] & 0x0F | (qh[l] & 3) << 4) - 32
                let q2 = Int(ql[l + 32] & 0x0F | (qh[l] >> 2 & 3) << 4) - 32
                let q3 = Int(ql[l] >> 4 | (qh[l] >> 4 & 3) << 4) - 32
                let q4 = Int(ql[l + 32] >> 4 | (qh[l] >> 6 & 3) << 4) - 32
                y[l] = d * Float(sc[s]) * Float(q1)
                y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
            y += 128; ql += 64; qh += 32; sc += 8
        }
    }
}
