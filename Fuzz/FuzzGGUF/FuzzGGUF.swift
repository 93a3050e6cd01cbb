// FuzzGGUF — libFuzzer target for GPT2Core's GGUF reader through the public loader: the input is a
// whole .gguf file (the container's counts, strings, arrays, tensor infos, alignment and offsets;
// GGUFConfig's metadata → config; the tensor names and shapes; the dequantizers; the Q4_0 → q4
// repacking; the embedded tokenizer lists). Seeds: scripts/make_gguf_fixtures.py writes small whole
// files (F32; Q8_0 with an untied Q4_0 output) to Tests/Fixtures/fuzz/FuzzGGUF.
//
// Invariants: loading returns or throws a CheckpointError (no other error, no crash, no hang — the
// -timeout and -rss_limit_mb of scripts/fuzz.sh catch unbounded work or allocation); a model that
// loads reports the gguf format and has every matrix in its config's shape, and the q4 matrices of
// a q4-served file widen to finite or non-finite values without trapping.

import Foundation
import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

private let scratch = FuzzScratchFile(suffix: ".gguf")

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzGGUF_main")
public func fuzzGGUFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzGGUF)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.write(FuzzInput.bytes(data, size))
    defer { scratch.remove() }
    do {
        let (c, weights) = try CheckpointLoader.load(directory: scratch.path, options: LoadOptions(preload: false))
        fuzzExpect(weights.format == .gguf, "loaded as \(weights.format)")
        fuzzExpect(weights.wte.shape == [c.vocabSize, c.nEmbd], "wte is \(weights.wte.shape)")
        for l in weights.layers {
            fuzzExpect(l.attnQKVWeight.shape == [c.nEmbd, 3 * c.nEmbd], "c_attn is \(l.attnQKVWeight.shape)")
            fuzzExpect(l.mlpProjWeight.shape == [c.nInner, c.nEmbd], "mlp.c_proj is \(l.mlpProjWeight.shape)")
        }
        if let p = weights.wte.packed {
            let row = UnsafeMutablePointer<Float>.allocate(capacity: p.inputs)
            defer { row.deallocate() }
            p.dequantizeRow(p.outputs - 1, into: row)
        }
    } catch is CheckpointError {
    } catch {
        fuzzExpect(false, "loading threw \(error), not a CheckpointError")
    }
    return 0
}
