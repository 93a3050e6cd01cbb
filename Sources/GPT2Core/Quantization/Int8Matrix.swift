// Int8Matrix — weights as 8-bit integers with one F32 absmax scale per 64 values along K.
//
// w[j, p] ≈ q[j, p]·scale[j, p / 64], q in [-127, 127], scale = block absmax / 127: 1.0625 bytes
// per weight, the same as 32-value blocks with binary16 scales. Measured on 768×768 normal weights,
// relative RMS error 0.59 % with 64-value F32 blocks vs 0.54 % with 32-value binary16 blocks; 64
// is kept for the kernel: one 64-byte line per block, half the per-block scale work, no binary16
// conversion, and the same blocks as nf4's activations.
// Stored in tiles of 16 output rows laid out as the product reads them (ckernels.h, quant_int8.c):
// each 64-byte word of a block holds 4 values of each of the tile's 16 rows, which one vpdpbusd
// multiplies by 4 activation bytes broadcast to every lane.
// Products with ≤ 32 rows — any number on VNNI CPUs — quantize the activations to int8 in the same
// blocks and sum each block in int32 (CKernels ck_i8_multiply); more rows elsewhere widen W tile by
// tile into the F32 GEMM.
import CKernels

public final class Int8Matrix: PackedMatrix, @unchecked Sendable {
    public static let weightType = WeightType.int8
    /// Values per block along K (CK_I8_BLOCK).
    public static let block = Int(CK_I8_BLOCK)

    public let outputs: Int
    public let inputs: Int
    /// [0] q + 128: UInt8 [tiledOutputs / 16, paddedInputs / 64, 1024]; [1] scale: F32
    /// [tiledOutputs / 16, paddedInputs / 64, 16] (ckernels.h's layout).
    public let segments: [UnsafeRawBufferPointer]
    /// Prefills compute with the dequantized weights in F32 (QuantizedStorage.tiledProduct) on every
    /// CPU, never with int8 activations: a bitsandbytes checkpoint's matrices, whose prefill logits
    /// must stay within 1e-4 of transformers' (README.md).
    public let exactPrefill: Bool
    private let owner: AnyObject
    private let matrix: ck_i8_matrix

    /// K rounded up to whole blocks (the padding holds zero weights).
    public var paddedInputs: Int { QuantizedStorage.padded(inputs, block: Self.block) }

    /// The outputs rounded up to whole tiles of 16 rows (the missing rows stored as zeros).
    static func tiledOutputs(_ n: Int) -> Int { Int(ck_i8_tiled_rows(n)) }

    static func sizes(outputs n: Int, inputs k: Int) -> [Int] {
        let kp = QuantizedStorage.padded(k, block: block), nt = tiledOutputs(n)
        return [nt * kp, nt * (kp / block) * 4]
    }

    public init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        let bytes = QuantizedBytes(sizes: Self.sizes(outputs: outputs, inputs: inputs))
        let q = bytes.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self)
        let scale = bytes.segments[1].baseAddress!.assumingMemoryBound(to: Float.self)
        ck_i8_quantize(rows, outputs, inputs, q, scale)
        self.outputs = outputs; self.inputs = inputs; self.exactPrefill = false
        self.owner = bytes; self.segments = bytes.readOnly
        self.matrix = ck_i8_matrix(q: q, scale: scale, n: outputs, k: inputs)
    }

    public convenience init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws {
        try self.init(outputs: outputs, inputs: inputs, segments: segments, owner: owner, exactPrefill: false)
    }

    public init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject,
                exactPrefill: Bool) throws {
        try QuantizedStorage.validate(segments, format: Self.weightType,
                                      sizes: Self.sizes(outputs: outputs, inputs: inputs), alignments: [1, 4])
        self.outputs = outputs; self.inputs = inputs; self.exactPrefill = exactPrefill
        self.owner = owner; self.segments = segments
        self.matrix = ck_i8_matrix(q: segments[0].baseAddress?.assumingMemoryBound(to: UInt8.self),
                                   scale: segments[1].baseAddress?.assumingMemoryBound(to: Float.self),
                                   n: outputs, k: inputs)
    }

    public func multiply(_ x: UnsafePointer<Float>, m: Int, ldx: Int,
                         _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        let k = inputs
        QuantizedStorage.product(matrix, format: Self.weightType, integerPrefill: !exactPrefill,
                                 outputs: outputs, inputs: k, x, m: m, ldx: ldx, out, ldo: ldo, beta: beta,
                                 small: { ck_i8_multiply($0, $1, $2, $3, $4, $5, $6) },
                                 dequantizeRows: { ck_i8_dequantize_rows_parallel($0, $1, $2, $3, k) })
    }

    public func dequantizeRow(_ j: Int, into row: UnsafeMutablePointer<Float>) {
        precondition(j >= 0 && j < outputs, "row \(j) out of 0..<\(outputs)")
        withUnsafePointer(to: matrix) { ck_i8_dequantize_rows($0, j, j + 1, row, inputs) }
    }
}
