// FloatConversion — F16/BF16/F64 → F32 loops for checkpoints stored in reduced precision.
// Run once at load time. The sources are file bytes (little-endian, maybe unaligned).
//
// F16 is widened with integer bit arithmetic so the loop vectorises without F16C; the result
// is bit-identical to Float(Float16(bitPattern:)) for every one of the 65536 inputs
// (normals, subnormals, ±0, ±inf, NaNs keep their payload), which a test checks exhaustively.

/// Widens one IEEE binary16 bit pattern to Float (exact: every F16 value is an F32 value).
@inline(__always)
func widenF16(_ h: UInt16) -> Float {
    let bits = UInt32(h)
    let sign = (bits & 0x8000) << 16
    let exp = (bits >> 10) & 0x1F
    let mant = bits & 0x3FF
    if exp == 0x1F {                         // inf / NaN: all-ones exponent, payload shifted up
        return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
    }
    if exp == 0 {                            // ±0 and subnormals: mant · 2^-24, exact in F32
        let magnitude = Float(mant) * 0x1p-24
        return Float(bitPattern: sign | magnitude.bitPattern)
    }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))   // rebias 15 → 127
}

/// BF16 is the top half of an F32.
@inline(__always)
func widenBF16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Converts `count` little-endian F16 values at `src` (any alignment) into `dst`.
func convertF16(_ src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count: Int) {
    if Int(bitPattern: src) % 2 == 0 {
        // The usual case (data area starts 8-aligned): a plain typed loop the compiler vectorises.
        let s = src.assumingMemoryBound(to: UInt16.self)
        for i in 0..<count { dst[i] = widenF16(UInt16(littleEndian: s[i])) }
    } else {
        for i in 0..<count {
            dst[i] = widenF16(src.littleEndian(UInt16.self, at: 2 * i))
        }
    }
}

/// Converts `count` little-endian BF16 values at `src` (any alignment) into `dst`.
func convertBF16(_ src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count: Int) {
    if Int(bitPattern: src) % 2 == 0 {
        let s = src.assumingMemoryBound(to: UInt16.self)
        for i in 0..<count { dst[i] = widenBF16(UInt16(littleEndian: s[i])) }
    } else {
        for i in 0..<count {
            dst[i] = widenBF16(src.littleEndian(UInt16.self, at: 2 * i))
        }
    }
}

/// Copies `count` little-endian F32 values at `src` (any alignment) into `dst`.
func copyF32(_ src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count: Int) {
    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
}

/// Narrows `count` little-endian F64 values at `src` (any alignment) into `dst` (round to nearest).
func convertF64(_ src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count {
        let bits = src.littleEndian(UInt64.self, at: 8 * i)
        dst[i] = Float(Double(bitPattern: bits))
    }
}

/// Public entry point for tests and tools: the exact F32 value of an F16 bit pattern.
public func float32(fromF16Bits bits: UInt16) -> Float { widenF16(bits) }
/// The exact F32 value of a BF16 bit pattern.
public func float32(fromBF16Bits bits: UInt16) -> Float { widenBF16(bits) }
