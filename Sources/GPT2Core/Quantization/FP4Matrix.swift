// FP4Matrix — bitsandbytes' FP4 (quantize_4bit, quant_type "fp4", blocksize 64): the values of
// NF4Matrix (CodeBook4Bit: one absmax per 64 values along K, optional double quantization of the
// absmax values, held in tiles of 16 output rows) with bitsandbytes' FP4 code book — 1 sign, 2
// exponent and 1 mantissa bit: 0, 0.0625, 8, 12, 4, 6, 2, 3 (and negatives) / 12, in index order
// (ck_fp4_code). Served from bitsandbytes-saved fp4 checkpoints (Checkpoints/Bitsandbytes, copied
// into the tiles) and made from float checkpoints with weight_type fp4 (single quantization,
// bitsandbytes' default), indices chosen as bitsandbytes' quantize_4bit does.
//
// dequantizeRow gives bitsandbytes' values, code[q]·absmax; products use int8 activations against
// the integer codes round(16383·code[q]) (ck_4bit_product_code), within 2^-15 of the block absmax of
// those values — at any row count on VNNI CPUs; elsewhere, and for a bitsandbytes checkpoint's
// matrices, more than 32 rows widen W tile by tile into the F32 GEMM.

public final class FP4Matrix: CodeBookMatrix, @unchecked Sendable {
    public static let weightType = WeightType.fp4
    static let book = CodeBook4Bit.Book.fp4
    /// Values per absmax block (CK_NF4_BLOCK).
    public static let block = CodeBook4Bit.block

    let storage: CodeBook4Bit

    /// Quantizes as bitsandbytes' default for fp4: single quantization.
    public convenience init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        self.init(quantizing: rows, outputs: outputs, inputs: inputs, doubleQuantization: false)
    }

    public init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int, doubleQuantization: Bool) {
        storage = Self.storage(quantizing: rows, outputs: outputs, inputs: inputs, doubleQuantization: doubleQuantization)
    }

    /// Two segments: single quantization; four: double (CodeBookMatrix's `segments`).
    init(storage: CodeBook4Bit) { self.storage = storage }

    public init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws {
        storage = try Self.storage(outputs: outputs, inputs: inputs, segments: segments, owner: owner)
    }
}
