// FuzzShardIndex — libFuzzer target for the shard index reader (CheckpointLoader.readIndex: the
// weight_map of model.safetensors.index.json and pytorch_model.bin.index.json), the file that names
// which other files the loader opens.
//
// Input: the whole index file. Invariants: every failure is a CheckpointError; an index that reads
// has a non-empty map whose every shard name stays inside the checkpoint directory (not empty, not
// absolute, no `..` component) — the property that keeps a hostile index from opening other files.

import Foundation
@testable import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

private let scratch = FuzzScratchFile(suffix: ".index.json")

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzShardIndex_main")
public func fuzzShardIndexMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzShardIndex)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShardIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput.bytes(data, size)
    scratch.write(input)
    defer { scratch.remove() }
    let map: [String: String]
    do {
        map = try CheckpointLoader.readIndex(path: scratch.path)
    } catch {
        fuzzExpect(error is CheckpointError, "readIndex threw a \(type(of: error)), not a CheckpointError: \(error)")
        return 0
    }
    fuzzExpect(!map.isEmpty, "an index that reads has an empty weight_map")
    for (tensor, shard) in map {
        let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
        fuzzExpect(!shard.isEmpty && !shard.hasPrefix("/") && !parts.contains(".."),
                   "weight_map puts '\(tensor)' in '\(shard)', outside the directory")
    }
    return 0
}
