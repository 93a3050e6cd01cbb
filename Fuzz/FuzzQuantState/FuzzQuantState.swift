// FuzzQuantState — libFuzzer target for the bitsandbytes quant_state blob reader
// (BitsandbytesQuantState: the JSON bitsandbytes stores as a U8 tensor beside each 4-bit weight,
// read from a checkpoint gpt2d did not write).
//
// Input: the blob's bytes; the first byte picks the quant type its key names (even: nf4, odd: fp4).
// Invariants: every failure is a CheckpointError.badQuantization naming the tensor; a blob that reads
// has the key's quant type, positive dimensions ≤ 2^24, a known dtype, and a finite offset when
// double-quantized — the bounds the loader's size arithmetic relies on.

@testable import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzQuantState_main")
public func fuzzQuantStateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzQuantState)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuantState(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput.bytes(data, size)
    guard let first = input.first else { return 0 }
    let keyType = first % 2 == 0 ? "nf4" : "fp4", tensor = "h.0.mlp.c_fc.weight.quant_state.bitsandbytes__" + keyType
    let state: BitsandbytesQuantState
    do {
        state = try input.dropFirst().withUnsafeBytes {
            try BitsandbytesQuantState(bytes: $0, keyType: keyType, file: "fuzz.safetensors", tensor: tensor)
        }
    } catch let CheckpointError.badQuantization(file, named, _) {
        fuzzExpect(file == "fuzz.safetensors" && named == tensor, "the error names \(file) / \(named)")
        return 0
    } catch {
        fuzzExpect(false, "BitsandbytesQuantState threw \(type(of: error)), not CheckpointError.badQuantization: \(error)")
        return 0
    }
    fuzzExpect(state.quantType.rawValue == keyType, "quant type \(state.quantType) read from a blob named \(keyType)")
    fuzzExpect(state.outputs > 0 && state.inputs > 0 && state.outputs <= 1 << 24 && state.inputs <= 1 << 24,
               "shape [\(state.outputs), \(state.inputs)] out of bounds")
    fuzzExpect(["float32", "float16", "bfloat16"].contains(state.dtype), "dtype \(state.dtype)")
    fuzzExpect(state.nestedOffset.map(\.isFinite) ?? true, "offset \(String(describing: state.nestedOffset))")
    return 0
}
