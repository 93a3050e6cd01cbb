// FuzzPickle — libFuzzer target for GPT2Core's PyTorch checkpoint reader: the restricted unpickler
// (RestrictedUnpickler), the state-dict walk (TorchStateDict) and both torch.save layouts
// (TorchZipArchive through ZIPFoundation, TorchLegacyFile), as PyTorchCheckpoint.open uses them.
//
// Input, chosen by byte 0:
// - even: the rest is a whole pytorch_model.bin, opened like a checkpoint (PyTorchCheckpoint.open);
// - odd: the rest is one pickle, run by the unpickler with globals allowed (as archive/data.pkl is),
//   then read as a state dict — so mutations reach the opcodes instead of mostly breaking the zip.
// Invariants: every failure is a CheckpointError (nothing else is ever thrown); the unpickler never
// consumes more bytes than it was given; a file that opens yields tensors whose bytes lie inside
// their mapping, hold exactly shape × dtype-size bytes, and read back as `count` values.

import Foundation
@testable import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

private let scratch = FuzzScratchFile(suffix: "-pytorch_model.bin")

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzPickle_main")
public func fuzzPickleMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzPickle)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput.bytes(data, size)
    guard let mode = input.first else { return 0 }
    let body = Array(input.dropFirst())
    if mode & 1 == 1 { unpickle(body) } else { openFile(body) }
    return 0
}

/// One pickle through the unpickler and the state-dict walk.
private func unpickle(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        var u = RestrictedUnpickler(bytes: raw, file: "fuzz.pkl", part: "data.pkl")
        do {
            let value = try u.run()
            fuzzExpect(u.consumed <= raw.count, "the unpickler consumed \(u.consumed) of \(raw.count) bytes")
            let tensors = try TorchStateDict.tensors(value, u.containers, file: "fuzz.pkl", part: "data.pkl")
            for (name, ref) in tensors {
                // What the loader checks next: every element the view indexes lies inside its storage.
                guard let count = try? PyTorchCheckpoint.reach(ref, file: "fuzz.pkl", tensor: name) else { continue }
                fuzzExpect(count >= 0 && !ref.size.contains { $0 < 0 } && count == ref.size.reduce(1, *),
                           "tensor '\(name)' of sizes \(ref.size) passed the bounds check with \(count) elements")
                fuzzExpect(count == 0 || ref.offset + ref.storage.viewOffset >= 0,
                           "tensor '\(name)' passed the bounds check with offset \(ref.offset)")
            }
        } catch {
            fuzzExpect(error is CheckpointError, "the unpickler threw a \(type(of: error)), not a CheckpointError: \(error)")
        }
    }
}

/// A whole file through PyTorchCheckpoint.open, then every tensor it yields read back.
private func openFile(_ bytes: [UInt8]) {
    scratch.write(bytes)
    defer { scratch.remove() }
    let files: [SafeTensorsFile]
    do {
        files = try PyTorchCheckpoint.open(path: scratch.path)
    } catch {
        fuzzExpect(error is CheckpointError, "opening threw a \(type(of: error)), not a CheckpointError: \(error)")
        return
    }
    for file in files {
        for name in file.names {
            guard let info = file.info(name) else {
                fuzzExpect(false, "names lists '\(name)' but info(_:) does not know it")
                return
            }
            fuzzExpect(info.fileRange.lowerBound >= 0 && info.fileRange.upperBound <= file.mapping.size,
                       "'\(name)' spans \(info.fileRange), the mapping is \(file.mapping.size) bytes")
            fuzzExpect(info.byteCount == info.count * info.dtype.size,
                       "'\(name)' has \(info.byteCount) bytes for \(info.count) \(info.dtype)")
            do {
                let raw = try file.rawBytes(name)
                fuzzExpect(raw.count == info.byteCount, "rawBytes('\(name)') has \(raw.count) bytes")
                if info.dtype.isConvertibleFloat {
                    let values = try file.floats(name)
                    fuzzExpect(values.count == info.count, "floats('\(name)') gave \(values.count) values, expected \(info.count)")
                }
            } catch {
                fuzzExpect(false, "reading '\(name)' (\(info.dtype)) of a file that opened failed: \(error)")
            }
        }
    }
}
