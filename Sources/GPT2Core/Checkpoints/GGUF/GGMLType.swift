// GGMLType — the ggml tensor element types a GGUF file's tensors are stored in, as far as gpt2d
// reads them: their numbers in the file (ggml.h's enum ggml_type), block size (values per block
// along a row, ne0) and block bytes. Layouts (ggml-common.h), all little-endian:
//   F32    1 value, 4 bytes                  F16 / BF16  1 value, 2 bytes
//   Q8_0   32 values, 34 bytes: d (binary16), then 32 int8 q;            w = q·d
//   Q4_0   32 values, 18 bytes: d (binary16), then 16 bytes, value t in the low nibble of byte t
//          and value t + 16 in its high nibble;                          w = (q − 8)·d
//   Q6_K   256 values, 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits), 16 int8 scales (one
//          per 16 values), d (binary16);                                 w = (d·scale)·(q − 32)
// Every other type (Q4_1, Q5_*, the other K-quants, the IQ types, integers) is refused by name.

/// A ggml element type gpt2d can read, by its number in ggml's enum.
enum GGMLType: UInt32, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q8_0 = 8
    case q6_K = 14
    case bf16 = 30

    /// Values per block (along ne0, which must be a multiple of it).
    var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q8_0: return 32
        case .q6_K: return 256
        }
    }

    /// Bytes per block.
    var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18
        case .q8_0: return 34
        case .q6_K: return 210
        }
    }

    /// ggml's name ("Q4_0"), as llama.cpp prints it.
    var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q8_0: return "Q8_0"
        case .q6_K: return "Q6_K"
        }
    }

    /// The safetensors dtype of an unquantized type (viewed or copied as is), nil for a quantized one.
    var floatDType: SafeTensorsDType? {
        switch self {
        case .f32: return .F32
        case .f16: return .F16
        case .bf16: return .BF16
        case .q4_0, .q8_0, .q6_K: return nil
        }
    }

    /// ggml's names of the types it has and gpt2d does not read, for error messages.
    static func describe(_ raw: UInt32) -> String {
        let known: [UInt32: String] = [
            3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 15: "Q8_K",
            16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
            24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
        ]
        return GGMLType(rawValue: raw)?.name ?? known[raw].map { "\($0) (\(raw))" } ?? "unknown (\(raw))"
    }
}
