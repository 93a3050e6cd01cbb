// PackedMatrix — the contract between the loader / forward pass and each quantized weight format
// (int8, nf4, q4). A format type owns its bytes (or views bytes mapped from the on-disk cache) and
// knows how to multiply activations by itself and how to widen one of its rows.
//
// Orientation: always output-major, whatever the checkpoint's layout. Row j holds the K weights that
// produce output j (nn.Linear's [out, in]; a Conv1D [in, out] weight is transposed at quantization),
// so blocks run along K, the reduction dimension, and a product reads each block once.

/// A weight matrix W of shape (outputs N, inputs K) in a packed, non-F32 format.
public protocol PackedMatrix: AnyObject, Sendable {
    /// The format this matrix is stored in.
    static var weightType: WeightType { get }

    /// Quantizes `rows` (N, K) row-major F32 (row stride K) into a new matrix that owns its bytes.
    init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int)

    /// Rebuilds a matrix over bytes laid out exactly as another matrix's `segments` were (e.g. a
    /// read-only mapping of the on-disk cache); `owner` keeps those bytes alive. Throws when the
    /// segment count or sizes do not fit (outputs, inputs).
    init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws

    var outputs: Int { get }
    var inputs: Int { get }

    /// The bytes that make up the matrix, in a fixed format-defined order (for the on-disk cache).
    var segments: [UnsafeRawBufferPointer] { get }

    /// out[i, j] = beta·out[i, j] + Σ_p x[i, p]·W[j, p]   for i < m, j < N.
    /// x is (m, K) with row stride ldx; out is (m, N) with row stride ldo; beta is 0 or 1.
    /// Any m (decode's few rows and prefill's many); runs its loops on the compute pool.
    func multiply(_ x: UnsafePointer<Float>, m: Int, ldx: Int,
                  _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float)

    /// Row j of W (K values) widened to F32 into `row` — the dequantized weights exactly as
    /// `multiply` uses them (e.g. the tied token embedding's lookup).
    func dequantizeRow(_ j: Int, into row: UnsafeMutablePointer<Float>)

    /// How the product treats the codes (MatmulPrecision): `.highest` for every format but the 4-bit
    /// code books (nf4, fp4), whose `.medium` runs one-part 8-bit codes.
    var precision: MatmulPrecision { get }

    /// This matrix with its product at `precision` (the same bytes); itself where the format has no choice.
    func serving(precision: MatmulPrecision) -> any PackedMatrix
}

extension PackedMatrix {
    public var precision: MatmulPrecision { .highest }
    public func serving(precision: MatmulPrecision) -> any PackedMatrix { self }

    /// Total bytes held (all segments).
    public var byteCount: Int { segments.reduce(0) { $0 + $1.count } }
}
