// FuzzConfig — libFuzzer target for GPT2Core's config.json reader (GPT2Config.parse).
//
// Input: the bytes of a config.json. Invariants when it parses: the config passes `validate` again
// (parse validated it), every size the forward pass divides or allocates by is positive, n_head
// divides n_embd (headDim × nHead == nEmbd), the epsilon is finite and ≥ 0, and the label maps
// agree in size with numLabels where they were derived from each other.

import Foundation
import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzConfig_main")
public func fuzzConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzConfig)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    guard let config = try? GPT2Config.parse(Data(bytes), file: "config.json") else { return 0 }
    do { try config.validate(file: "config.json") } catch {
        fuzzExpect(false, "a parsed config fails validate: \(error)")
    }
    fuzzExpect(config.vocabSize > 0 && config.nPositions > 0 && config.nEmbd > 0 && config.nLayer > 0
               && config.nHead > 0 && config.nInner > 0, "a parsed config has a non-positive size")
    fuzzExpect(config.headDim * config.nHead == config.nEmbd, "n_head \(config.nHead) does not divide n_embd \(config.nEmbd)")
    fuzzExpect(config.layerNormEpsilon.isFinite && config.layerNormEpsilon >= 0, "epsilon \(config.layerNormEpsilon)")
    fuzzExpect(config.numLabels == config.id2label.count, "numLabels disagrees with id2label")
    return 0
}
