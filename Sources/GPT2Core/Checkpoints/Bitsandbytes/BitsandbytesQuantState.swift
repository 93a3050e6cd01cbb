// BitsandbytesQuantState — the JSON blob bitsandbytes stores beside each 4-bit weight
// (`<module>.weight.quant_state.bitsandbytes__nf4` or `…__fp4`: QuantState.as_dict(packed=True),
// json.dumps of the non-tensor fields as a U8 tensor), read with bounds. Fields (all required but
// the nested ones, which come together):
//   quant_type        "nf4" | "fp4"               must equal the key's suffix
//   blocksize         64                          the only block gpt2d's 4-bit kernels have
//   dtype             "float32" | "float16" | "bfloat16"   the weight's dtype before quantization
//   shape             [out, in]                   the Linear's weight shape (positive integers)
//   nested_blocksize  256                         double quantization of the absmax values
//   nested_dtype      "float32"
//   nested_offset     a finite number             the mean subtracted before double quantization
// Any other key (bitsandbytes' from_dict asserts the same), a missing or mistyped field, a value
// outside these, or a blob longer than `maxBytes` is a `CheckpointError.badQuantization` naming the
// file and the blob's tensor.

import GPT2JSON

struct BitsandbytesQuantState: Equatable {
    enum QuantType: String { case nf4, fp4 }

    /// Largest blob read (bitsandbytes writes about 200 bytes).
    static let maxBytes = 4096
    /// The blob tensor's name after `<module>.weight.`, without the quant type.
    static let keyPrefix = "quant_state.bitsandbytes__"
    static let blocksize = 64
    static let nestedBlocksize = 256

    let quantType: QuantType
    /// The weight before quantization: [outputs, inputs] (nn.Linear's layout).
    let outputs: Int
    let inputs: Int
    /// "float32", "float16" or "bfloat16".
    let dtype: String
    /// The double quantization's mean offset; nil without double quantization.
    let nestedOffset: Float?

    /// Parses `bytes`, the blob of tensor `tensor` in `file`, whose key named `keyType`.
    init(bytes: UnsafeRawBufferPointer, keyType: String, file: String, tensor: String) throws {
        func bad(_ reason: String) -> CheckpointError { .badQuantization(file: file, tensor: tensor, reason: reason) }
        guard bytes.count <= Self.maxBytes else {
            throw bad("quant_state blob is \(bytes.count) bytes, more than the \(Self.maxBytes) bitsandbytes ever writes")
        }
        let json: JSON
        do { json = try CheckpointJSON.parse(bytes) } catch { throw bad("quant_state is not JSON: \(error.reason)") }
        guard case let .object(members) = json else {
            throw bad("quant_state is a JSON \(json.checkpointTypeName), expected an object")
        }
        let known: Set<String> = ["quant_type", "blocksize", "dtype", "shape", "nested_blocksize", "nested_dtype", "nested_offset"]
        if let unknown = members.keys.first(where: { !known.contains($0) }) {
            throw bad("quant_state has the unknown key '\(unknown)'")
        }
        guard case let .string(typeName)? = json["quant_type"], let type = QuantType(rawValue: typeName) else {
            throw bad("quant_type is \(json["quant_type"].map { $0.serialized() } ?? "missing"), expected \"nf4\" or \"fp4\"")
        }
        guard typeName == keyType else { throw bad("quant_type \"\(typeName)\" in a blob named for \"\(keyType)\"") }
        guard json["blocksize"]?.exactInt == Self.blocksize else {
            throw bad("blocksize is \(json["blocksize"].map { $0.serialized() } ?? "missing"); gpt2d reads bitsandbytes' 64-value blocks only")
        }
        guard case let .string(dtype)? = json["dtype"], ["float32", "float16", "bfloat16"].contains(dtype) else {
            throw bad("dtype is \(json["dtype"].map { $0.serialized() } ?? "missing"), expected float32, float16 or bfloat16")
        }
        guard case let .array(dims)? = json["shape"], dims.count == 2,
              let n = dims[0].exactInt, let k = dims[1].exactInt, n > 0, k > 0, n <= 1 << 24, k <= 1 << 24 else {
            throw bad("shape is \(json["shape"].map { $0.serialized() } ?? "missing"), expected [out, in] of positive integers")
        }
        let nestedKeys = ["nested_blocksize", "nested_dtype", "nested_offset"].filter { json[$0] != nil }
        var offset: Float? = nil
        if !nestedKeys.isEmpty {
            guard nestedKeys.count == 3 else { throw bad("quant_state has \(nestedKeys.joined(separator: ", ")) but not all three nested_* fields") }
            guard json["nested_blocksize"]?.exactInt == Self.nestedBlocksize else {
                throw bad("nested_blocksize is \(json["nested_blocksize"]!.serialized()); bitsandbytes' double quantization uses 256")
            }
            guard case .string("float32")? = json["nested_dtype"] else {
                throw bad("nested_dtype is \(json["nested_dtype"]!.serialized()), expected \"float32\"")
            }
            guard let value = json["nested_offset"]?.doubleValue, value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
                throw bad("nested_offset is \(json["nested_offset"]!.serialized()), expected a finite number")
            }
            offset = Float(value)
        }
        self.quantType = type; self.outputs = n; self.inputs = k; self.dtype = dtype; self.nestedOffset = offset
    }
}
