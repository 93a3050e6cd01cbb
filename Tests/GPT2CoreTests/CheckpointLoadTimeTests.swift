// CheckpointLoadTimeTests — opt-in: GPT2_LOAD_TIME_DIR=/some/dir writes a 124M-shaped F32
// checkpoint there (once, ~500 MB) and prints how long mapping and validating it takes.

import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

@Suite struct CheckpointLoadTimeTests {
    static let dir = ProcessInfo.processInfo.environment["GPT2_LOAD_TIME_DIR"]

    @Test(.enabled(if: dir != nil)) func load124MShapedCheckpoint() throws {
        let dir = try #require(Self.dir)
        if !FileManager.default.fileExists(atPath: dir + "/model.safetensors") {
            try TinyCheckpoint.writeLarge(config: .gpt2, to: dir)
        }
        for preload in [true, false, true] {
            let start = Date()
            let (config, w) = try CheckpointLoader.load(directory: dir, options: LoadOptions(preload: preload))
            let seconds = Date().timeIntervalSince(start)
            print("load 124M-shaped F32 (preload: \(preload)): \(String(format: "%.1f", seconds * 1000)) ms, mapped \(w.mappedByteCount) bytes, converted \(w.convertedByteCount)")
            #expect(config == .gpt2)
            #expect(w.convertedByteCount == 0)
            #expect(w.isMapped(w.wte) && w.isMapped(w.layers[11].mlpProjWeight))
        }
    }
}
