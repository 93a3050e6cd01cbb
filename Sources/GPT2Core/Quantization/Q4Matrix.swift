// Q4Matrix — the project's 4-bit integer group format: 32 values per group along K, each
// w = d·q + m with q in 0...15 and a binary16 scale d = (max − min)/15 and offset m = min per group
// (0.625 bytes per weight), stored in tiles of 16 output rows laid out as the product reads them
// (ckernels.h, quant_q4.c): one 64-byte load, a mask and a shift give 4 values of each of the
// tile's 16 rows, which an unsigned×signed byte dot product (vpdpbusd) multiplies by 4 activation
// bytes broadcast to every lane; the offset enters once per group as m·da·Σa from the activations'
// block sums. Against nf4 (64-value blocks, an absmax only) it spends 0.06–0.11 bytes per weight
// more on scales for a lower error on normal weights and a cheaper inner loop (no code-book lookup).
import CKernels

public final class Q4Matrix: PackedMatrix, @unchecked Sendable {
    public static let weightType = WeightType.q4
    /// Values per group along K (CK_Q4_GROUP).
    public static let group = Int(CK_Q4_GROUP)

    public let outputs: Int
    public let inputs: Int
    /// [0] packed nibbles U8 [tiledOutputs / 16, paddedInputs / 32, 256]; [1] d, m binary16
    /// [tiledOutputs / 16, paddedInputs / 32, 2, 16] (ckernels.h's layout).
    public let segments: [UnsafeRawBufferPointer]
    private let owner: AnyObject
    private let matrix: ck_q4_matrix

    /// K rounded up to whole groups (the padding quantizes as zeros of its group).
    public var paddedInputs: Int { QuantizedStorage.padded(inputs, block: Self.group) }

    /// The outputs rounded up to whole tiles of 16 rows (the missing rows stored as zeros).
    static func tiledOutputs(_ n: Int) -> Int { Int(ck_q4_tiled_rows(n)) }

    static func sizes(outputs n: Int, inputs k: Int) -> [Int] {
        let kp = QuantizedStorage.padded(k, block: group), nt = tiledOutputs(n)
        return [nt * kp / 2, nt * (kp / group) * 4]
    }

    public init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        let bytes = QuantizedBytes(sizes: Self.sizes(outputs: outputs, inputs: inputs))
        let packed = bytes.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self)
        let dm = bytes.segments[1].baseAddress!.assumingMemoryBound(to: UInt16.self)
        ck_q4_quantize(rows, outputs, inputs, packed, dm)
        self.outputs = outputs; self.inputs = inputs
        self.owner = bytes; self.segments = bytes.readOnly
        self.matrix = ck_q4_matrix(packed: packed, dm: dm, n: outputs, k: inputs)
    }

    public init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws {
        try QuantizedStorage.validate(segments, format: Self.weightType,
                                      sizes: Self.sizes(outputs: outputs, inputs: inputs), alignments: [1, 2])
        self.outputs = outputs; self.inputs = inputs
        self.owner = owner; self.segments = segments
        self.matrix = ck_q4_matrix(packed: segments[0].baseAddress?.assumingMemoryBound(to: UInt8.self),
                                   dm: segments[1].baseAddress?.assumingMemoryBound(to: UInt16.self),
                                   n: outputs, k: inputs)
    }

    public func multiply(_ x: UnsafePointer<Float>, m: Int, ldx: Int,
                         _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        let k = inputs
        QuantizedStorage.product(matrix, format: Self.weightType, integerPrefill: true,
                                 outputs: outputs, inputs: k, x, m: m, ldx: ldx, out, ldo: ldo, beta: beta,
                                 small: { ck_q4_multiply($0, $1, $2, $3, $4, $5, $6) },
                                 dequantizeRows: { ck_q4_dequantize_rows_parallel($0, $1, $2, $3, k) })
    }

    public func dequantizeRow(_ j: Int, into row: UnsafeMutablePointer<Float>) {
        precondition(j >= 0 && j < outputs, "row \(j) out of 0..<\(outputs)")
        withUnsafePointer(to: matrix) { ck_q4_dequantize_rows($0, j, j + 1, row, inputs) }
    }
}
