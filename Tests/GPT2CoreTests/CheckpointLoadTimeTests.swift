// CheckpointLoadTimeTests — opt-in: GPT2_LOAD_TIME_DIR=/some/dir writes 124M-shaped
// checkpoints there (once: F32 ~500 MB, F16 and BF16 ~250 MB each) and prints how long
// mapping, validating and (for F16/BF16) widening their vectors takes.

import Foundation
import Testing
import GPT2Core
import GPT2TestSupport

@Suite(.serialized) struct CheckpointLoadTimeTests {
    static let dir = ProcessInfo.processInfo.environment["GPT2_LOAD_TIME_DIR"]

    @Test(.enabled(if: dir != nil), arguments: ["F32", "F16", "BF16"])
    func load124MShapedCheckpoint(dtype: String) throws {
        let dir = try #require(Self.dir) + "/gpt2-124m-" + dtype
        if !FileManager.default.fileExists(atPath: dir + "/model.safetensors") {
            try TinyCheckpoint.writeLarge(config: .gpt2, to: dir, dtype: dtype)
        }
        for preload in [true, false, true] {
            let start = Date()
            let (config, w) = try CheckpointLoader.load(directory: dir, options: LoadOptions(preload: preload))
            let seconds = Date().timeIntervalSince(start)
            print("load 124M-shaped \(dtype) (preload: \(preload)): \(String(format: "%.1f", seconds * 1000)) ms, mapped \(w.mappedByteCount) bytes, converted \(w.convertedByteCount)")
            #expect(config == .gpt2)
            #expect(w.storedDType == dtype)
            #expect((w.convertedByteCount == 0) == (dtype == "F32"))
            #expect(w.isMapped(w.wte))  // F32 and 16-bit alike: wte is read from the mapping
            #expect(dtype != "F32" || w.wte.buffer[999] == Float(999) * 1e-3 - 0.5)
        }
    }
}
