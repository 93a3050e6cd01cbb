// GGUFQ4Repack — a GGUF Q4_0 matrix as gpt2d's q4 format without requantizing. Both use 32-value
// groups along K with the same nibble order (value t in the low nibble of byte t, value t + 16 in
// the high nibble); Q4_0 computes w = (q − 8)·d and q4 w = q·d + m, so m = −8·d gives the same
// values: q·d and −8·d are exact in F32 and so is their sum, which is (q − 8)·d (a zero may differ
// in sign). −8·d is a binary16 for every |d| ≤ 8188; a block with a larger (or non-finite) scale
// makes the matrix not exactly representable, and the caller dequantizes it instead.
// The repacked bytes are owned (the GGUF block interleaves d with the nibbles; q4 keeps them in two
// arrays, in tiles of 16 rows: ck_q4_tile_groups), 0.5625 bytes per weight like the file's.

import CKernels

extension Q4Matrix {
    /// The q4 matrix with exactly the values of Q4_0 tensor `t` (its rows are the outputs, ne0 = K)
    /// stored at `src`; nil when some block's −8·d is not a binary16.
    static func exactly(q4_0 t: GGUFTensor, at src: UnsafeRawPointer) -> Q4Matrix? {
        precondition(t.type == .q4_0 && t.rowLength % group == 0)
        let n = t.rows, k = t.rowLength, groups = k / group
        // Each block's (d, m) first; the nibbles go straight from the file's blocks into the tiles.
        var dm = [UInt16](repeating: 0, count: n * groups * 2)
        for b in 0..<(n * groups) {
            let dBits = (src + b * 18).littleEndian(UInt16.self)
            let m = -8 * widenF16(dBits)
            let mHalf = Float16(m)
            guard Float(mHalf) == m else { return nil }
            dm[2 * b] = dBits
            dm[2 * b + 1] = mHalf.bitPattern
        }
        let bytes = QuantizedBytes(sizes: sizes(outputs: n, inputs: k))
        ck_q4_tile_groups((src + 2).assumingMemoryBound(to: UInt8.self), 18, dm, n, k,
                          bytes.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self),
                          bytes.segments[1].baseAddress!.assumingMemoryBound(to: UInt16.self))
        return try? Q4Matrix(outputs: n, inputs: k, segments: bytes.readOnly, owner: bytes)
    }
}
