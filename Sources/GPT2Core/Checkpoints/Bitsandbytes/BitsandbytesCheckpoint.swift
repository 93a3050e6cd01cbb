// BitsandbytesCheckpoint — the matrices of a model transformers saved after loading it with
// BitsAndBytesConfig (safetensors), found in the loader's tensor table and checked before use.
//
// What transformers writes (bitsandbytes replaces each body Conv1D by a Linear4bit / Linear8bitLt and
// quantizes the TRANSPOSED weight, so every stored matrix is nn.Linear's [out N, in K]; wte, wpe,
// the layer norms, the biases and the (tied) LM head stay float):
//   4-bit  <m>.weight                                U8, ⌈N·K / 2⌉ bytes: bitsandbytes' flat 64-value
//                                                    blocks over [N, K], the even value in the high nibble
//          <m>.weight.absmax                         F32 [blocks], or U8 [blocks] when double-quantized
//          <m>.weight.quant_map                      F32 [16], the code book (must be nf4's or fp4's)
//          <m>.weight.nested_absmax / nested_quant_map   F32 [⌈blocks / 256⌉] / F32 [256] (double quant)
//          <m>.weight.quant_state.bitsandbytes__nf4|fp4  U8: JSON (BitsandbytesQuantState)
//   8-bit  <m>.weight I8 [N, K], <m>.SCB F32 [N] (each row's absmax: w = q·SCB/127),
//          <m>.weight_format U8 scalar 0 (row-major; other layouts are refused)
//
// Served in its own type (the default) the matrices are built over the file's mapping, no F32 copy:
// 4-bit → NF4Matrix / FP4Matrix viewing the packed bytes (K a multiple of 64, so the flat blocks are
// whole rows: bitsandbytes' bytes ARE the format's), double quantization kept when the stored nested
// map is the one the kernels have (else each absmax expanded to F32 as bitsandbytes computes it);
// 8-bit → Int8Matrix viewing the int8 bytes (K a multiple of 64; else copied into padded rows), every
// 64-value block of row j given the scale SCB[j]/127. Served in another type, every matrix is
// dequantized (as bitsandbytes does, into a CopiedTensors table of F32 Conv1D [K, N] tensors) and
// then converted like any float checkpoint's.

import CKernels
import Foundation

extension CheckpointLoader {
    /// One quantized module of the checkpoint, checked against its state.
    struct BitsandbytesMatrix {
        enum Kind {
            /// 4-bit: absmax (F32, or U8 with `nested` when double-quantized) and the code book.
            case fourBit(book: CodeBook4Bit.Book, absmax: Source, nested: Nested?)
            /// LLM.int8: SCB, the F32 absmax of each row.
            case int8(scb: Source)
        }

        /// Double quantization of the absmax values: their F32 absmax per 256, the stored map, the mean.
        struct Nested {
            let absmax: Source
            let map: [Float]
            let offset: Float
        }

        /// Normalised weight key ("h.0.attn.c_attn.weight").
        let key: String
        /// The stored weight tensor (packed U8 or int8).
        let source: Source
        let outputs: Int
        let inputs: Int
        let kind: Kind
    }

    /// A checkpoint's bitsandbytes matrices (all of one type) by normalised weight key.
    struct BitsandbytesWeights {
        let weightType: WeightType
        let matrices: [String: BitsandbytesMatrix]
    }

    /// The body matrices bitsandbytes quantizes in a GPT-2 (Conv1D modules of every block).
    static let bitsandbytesModules: Set<Substring> = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]

    /// Finds and checks every bitsandbytes-quantized matrix in `table` (normalised key → source);
    /// nil when there is none and config.json has no bitsandbytes quantization_config.
    static func findBitsandbytes(_ table: [String: Source], configPath: String) throws -> BitsandbytesWeights? {
        let config = try BitsandbytesConfig.read(configPath: configPath)
        var found: [String: BitsandbytesMatrix] = [:]
        for key in table.keys.sorted() {
            if let r = key.range(of: ".weight." + BitsandbytesQuantState.keyPrefix), !key[r.upperBound...].contains(".") {
                let weight = String(key[..<r.lowerBound]) + ".weight"
                found[weight] = try fourBit(weight, state: table[key]!, type: String(key[r.upperBound...]), table: table)
            } else if key.hasSuffix(".SCB") {
                let weight = String(key.dropLast(".SCB".count)) + ".weight"
                found[weight] = try int8(weight, scb: table[key]!, table: table)
            }
        }
        guard let first = found.values.first else {
            if let config {
                throw CheckpointError.badQuantization(file: configPath, tensor: "quantization_config",
                                                      reason: "says bitsandbytes \(config.weightType) but no weight has bitsandbytes' quantization state")
            }
            return nil
        }
        let type = weightType(first)
        for m in found.values.sorted(by: { $0.key < $1.key }) {
            guard case .body(let k) = classify(m.key), let (_, rest) = splitLayerKey(k), bitsandbytesModules.contains(rest) else {
                throw CheckpointError.badQuantization(file: m.source.file.path, tensor: m.source.info.name,
                                                      reason: "is quantized, but gpt2d reads bitsandbytes weights only for the blocks' c_attn, c_proj and c_fc")
            }
            guard weightType(m) == type else {
                throw CheckpointError.badQuantization(file: m.source.file.path, tensor: m.source.info.name,
                                                      reason: "is \(weightType(m)) where other weights are \(type): one model has one quantization")
            }
        }
        if let config, config.weightType != type {
            throw CheckpointError.badQuantization(file: configPath, tensor: "quantization_config",
                                                  reason: "says bitsandbytes \(config.weightType) but the weights are \(type)")
        }
        return BitsandbytesWeights(weightType: type, matrices: found)
    }

    static func weightType(_ m: BitsandbytesMatrix) -> WeightType {
        switch m.kind {
        case .fourBit(let book, _, _): return book == .fp4 ? .fp4 : .nf4
        case .int8: return .int8
        }
    }

    /// A tensor of `table` that must exist with `dtype` and `count` elements (nil count: any).
    private static func companion(_ table: [String: Source], _ key: String, of weight: Source, dtype: SafeTensorsDType,
                                  count: Int?) throws -> Source {
        let file = weight.file.path
        guard let s = table[key] else {
            throw CheckpointError.badQuantization(file: file, tensor: weight.info.name, reason: "has no '\(key)' beside it")
        }
        guard s.info.dtype == dtype else {
            throw CheckpointError.badQuantization(file: s.file.path, tensor: s.info.name, reason: "is \(s.info.dtype.rawValue), expected \(dtype.rawValue)")
        }
        if let count, s.info.count != count {
            throw CheckpointError.badQuantization(file: s.file.path, tensor: s.info.name,
                                                  reason: "has \(s.info.count) values where the quant state needs \(count)")
        }
        return s
    }

    /// The F32 values of a small tensor (the code books).
    private static func floats(_ s: Source) -> [Float] {
        let base = UnsafeRawPointer(s.file.mapping.base + s.info.fileRange.lowerBound)
        return (0..<s.info.count).map { Float(bitPattern: base.littleEndian(UInt32.self, at: 4 * $0)) }
    }

    private static func fourBit(_ weight: String, state: Source, type: String, table: [String: Source]) throws -> BitsandbytesMatrix {
        guard state.info.dtype == .U8 else {
            throw CheckpointError.badQuantization(file: state.file.path, tensor: state.info.name, reason: "is \(state.info.dtype.rawValue), expected U8 (a JSON blob)")
        }
        let blob = UnsafeRawBufferPointer(rebasing: state.file.mapping.bytes[state.info.fileRange])
        let qs = try BitsandbytesQuantState(bytes: blob, keyType: type, file: state.file.path, tensor: state.info.name)
        guard let w = table[weight] else {
            throw CheckpointError.badQuantization(file: state.file.path, tensor: state.info.name, reason: "describes '\(weight)', which the checkpoint does not have")
        }
        let (n, k) = (qs.outputs, qs.inputs)
        let count = n * k, blocks = (count + 63) / 64
        guard w.info.dtype == .U8 else {
            throw CheckpointError.badQuantization(file: w.file.path, tensor: w.info.name,
                                                  reason: "is \(w.info.dtype.rawValue); gpt2d reads 4-bit weights packed in U8 (bnb_4bit_quant_storage uint8)")
        }
        guard w.info.count == (count + 1) / 2 else {
            throw CheckpointError.badQuantization(file: w.file.path, tensor: w.info.name,
                                                  reason: "holds \(w.info.count) bytes, but its quant state's shape [\(n), \(k)] packs into \((count + 1) / 2)")
        }
        let book: CodeBook4Bit.Book = qs.quantType == .fp4 ? .fp4 : .nf4
        let map = try companion(table, weight + ".quant_map", of: w, dtype: .F32, count: 16)
        let code = withUnsafeBytes(of: book == .fp4 ? ck_fp4_code : ck_nf4_code) { Array($0.bindMemory(to: Float.self)) }
        guard floats(map).map(\.bitPattern) == code.map(\.bitPattern) else {
            throw CheckpointError.badQuantization(file: map.file.path, tensor: map.info.name, reason: "is not bitsandbytes' \(qs.quantType) code book")
        }
        var nested: BitsandbytesMatrix.Nested? = nil
        let absmax: Source
        if let offset = qs.nestedOffset {
            absmax = try companion(table, weight + ".absmax", of: w, dtype: .U8, count: blocks)
            let a2 = try companion(table, weight + ".nested_absmax", of: w, dtype: .F32, count: (blocks + 255) / 256)
            let nmap = try companion(table, weight + ".nested_quant_map", of: w, dtype: .F32, count: 256)
            nested = BitsandbytesMatrix.Nested(absmax: a2, map: floats(nmap), offset: offset)
        } else {
            if table[weight + ".nested_absmax"] != nil {
                throw CheckpointError.badQuantization(file: state.file.path, tensor: state.info.name,
                                                      reason: "has no nested_* fields but '\(weight).nested_absmax' exists")
            }
            absmax = try companion(table, weight + ".absmax", of: w, dtype: .F32, count: blocks)
        }
        return BitsandbytesMatrix(key: weight, source: w, outputs: n, inputs: k, kind: .fourBit(book: book, absmax: absmax, nested: nested))
    }

    private static func int8(_ weight: String, scb: Source, table: [String: Source]) throws -> BitsandbytesMatrix {
        guard let w = table[weight] else {
            throw CheckpointError.badQuantization(file: scb.file.path, tensor: scb.info.name, reason: "scales '\(weight)', which the checkpoint does not have")
        }
        guard w.info.dtype == .I8, w.info.shape.count == 2, w.info.shape[0] > 0, w.info.shape[1] > 0 else {
            throw CheckpointError.badQuantization(file: w.file.path, tensor: w.info.name,
                                                  reason: "is \(w.info.dtype.rawValue) \(w.info.shape) beside an SCB; LLM.int8 weights are I8 [out, in]")
        }
        let n = w.info.shape[0], k = w.info.shape[1]
        _ = try companion(table, String(weight.dropLast(".weight".count)) + ".SCB", of: w, dtype: .F32, count: n)
        if !floats(scb).allSatisfy({ $0.isFinite && $0 >= 0 }) {
            throw CheckpointError.badQuantization(file: scb.file.path, tensor: scb.info.name, reason: "has a negative or non-finite row absmax")
        }
        let formatKey = String(weight.dropLast(".weight".count)) + ".weight_format"
        if let f = table[formatKey] {
            let base = f.file.mapping.base + f.info.fileRange.lowerBound
            guard f.info.dtype == .U8, f.info.count == 1, base.load(as: UInt8.self) == 0 else {
                throw CheckpointError.badQuantization(file: f.file.path, tensor: f.info.name,
                                                      reason: "is not the U8 scalar 0 (row-major); other int8 layouts are not read")
            }
        }
        return BitsandbytesMatrix(key: weight, source: w, outputs: n, inputs: k, kind: .int8(scb: scb))
    }
}
