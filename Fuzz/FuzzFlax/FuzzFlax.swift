// FuzzFlax — libFuzzer target for GPT2Core's Flax checkpoint reader (FlaxCheckpoint: MsgPackBounds'
// framing checks, msgpack-c's decode, the parameter tree, ndarray payloads) through the public
// loader: the input is a whole `flax_model.msgpack` in a scratch directory (in /dev/shm when it
// exists) beside a fixed tiny config.json (`seedConfig`, the shape of the seeds that
// scripts/make_tf_flax_fixtures.py writes to Tests/Fixtures/fuzz/FuzzFlax).
//
// Invariants: loading returns or throws a CheckpointError (no other error, no crash, no hang — the
// -timeout and -rss_limit_mb of scripts/fuzz.sh catch unbounded work or allocation); a model that
// loads reports the flax format and has every matrix in the config's shape.

import Foundation
import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

/// The seeds' config: vocab 16, 4 dims, 1 layer, 1 head, 8 positions.
private let seedConfig = """
{"model_type": "gpt2", "vocab_size": 16, "n_embd": 4, "n_layer": 1, "n_head": 1, "n_positions": 8, "n_ctx": 8,
 "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05, "tie_word_embeddings": true}
"""

private let scratch: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = "\(base)/gpt2d-fuzz-flax-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: dir + "/config.json", contents: Data(seedConfig.utf8)) else {
        fatalError("FuzzFlax: cannot write \(dir)/config.json")
    }
    return dir
}()

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzFlax_main")
public func fuzzFlaxMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzFlax)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFlax(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let path = scratch + "/flax_model.msgpack"
    guard FileManager.default.createFile(atPath: path, contents: Data(FuzzInput.bytes(data, size))) else {
        fatalError("FuzzFlax: cannot write \(path)")
    }
    defer { unlink(path) }
    do {
        let (c, weights) = try CheckpointLoader.load(directory: scratch)
        fuzzExpect(weights.format == .flax, "loaded as \(weights.format)")
        fuzzExpect(weights.wte.shape == [c.vocabSize, c.nEmbd], "wte is \(weights.wte.shape)")
        for l in weights.layers {
            fuzzExpect(l.attnQKVWeight.shape == [c.nEmbd, 3 * c.nEmbd], "c_attn is \(l.attnQKVWeight.shape)")
            fuzzExpect(l.mlpProjWeight.shape == [c.nInner, c.nEmbd], "mlp.c_proj is \(l.mlpProjWeight.shape)")
        }
    } catch is CheckpointError {
    } catch {
        fuzzExpect(false, "loading threw \(error), not a CheckpointError")
    }
    return 0
}
