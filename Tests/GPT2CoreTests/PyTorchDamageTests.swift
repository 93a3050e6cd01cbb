// Malformed pytorch_model.bin files: each is a typed CheckpointError at load naming the file (and the
// tensor or pickle part), never a crash, a hang or an allocation the file's size does not bound.
// The damaged files are made here from the committed fixtures or written opcode by opcode
// (LegacyTorchFile), in a temporary directory with the tiny-hub config.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// Loads a directory holding `bytes` as pytorch_model.bin and returns the CheckpointError.
private func loadError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> (CheckpointError, String)? {
    let dir = makeTempDirectory("pt-bad"); defer { removeDirectory(dir) }
    try FileManager.default.copyItem(atPath: Fixtures.model("tiny-hub") + "/config.json", toPath: dir + "/config.json")
    let path = dir + "/pytorch_model.bin"
    try writeFile(bytes, to: path)
    do {
        _ = try CheckpointLoader.load(directory: dir)
        Issue.record("loaded", sourceLocation: sourceLocation)
        return nil
    } catch let e as CheckpointError {
        #expect(e.description.contains(path), "\(e)", sourceLocation: sourceLocation)
        return (e, path)
    }
}

private func fixtureBytes(_ name: String, _ file: String = "pytorch_model.bin") -> [UInt8] {
    Array(FileManager.default.contents(atPath: PyTorchFixtures.directory(name) + "/" + file)!)
}

/// Offset of the central-directory record (PK\1\2) of the entry whose name ends with `suffix`.
private func centralRecord(_ zip: [UInt8], nameSuffix suffix: String) -> Int? {
    let want = Array(suffix.utf8)
    var i = 0
    while i + 46 <= zip.count {
        if zip[i] == 0x50, zip[i + 1] == 0x4B, zip[i + 2] == 0x01, zip[i + 3] == 0x02 {
            let n = Int(zip[i + 28]) | Int(zip[i + 29]) << 8
            let name = Array(zip[(i + 46)..<min(zip.count, i + 46 + n)])
            if name.count >= want.count, Array(name.suffix(want.count)) == want { return i }
        }
        i += 1
    }
    return nil
}

private func put32(_ v: UInt32, _ bytes: inout [UInt8], at: Int) {
    for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
}

private func reason(_ e: CheckpointError) -> String { e.description }

@Suite struct PyTorchDamageTests {
    @Test func truncatedZipArchive() throws {
        let zip = fixtureBytes("hub-zip")
        guard let (e, _) = try loadError(Array(zip.prefix(zip.count / 2))) else { return }
        guard case .badArchive = e else { Issue.record("\(e)"); return }
    }

    @Test func truncatedLegacyFile() throws {
        let legacy = fixtureBytes("untied-legacy-views")
        guard let (e, _) = try loadError(Array(legacy.prefix(legacy.count - 100))) else { return }
        guard case let .badStorage(_, tensor, why) = e else { Issue.record("\(e)"); return }
        #expect(tensor.contains("storage") && why.contains("past the end"), "\(e)")
    }

    @Test func zipEntryPointingOutsideTheFile() throws {
        var zip = fixtureBytes("hub-zip")
        let rec = try #require(centralRecord(zip, nameSuffix: "/data/0"))
        put32(0x7FFF_0000, &zip, at: rec + 20)  // compressed size
        put32(0x7FFF_0000, &zip, at: rec + 24)  // uncompressed size
        guard let (e, _) = try loadError(zip) else { return }
        guard case let .badArchive(_, why) = e else { Issue.record("\(e)"); return }
        #expect(why.contains("data/0") && why.contains("past the end"), "\(e)")

        // A local-header offset past the end: the entry cannot be read, so its storage is missing.
        var moved = fixtureBytes("hub-zip")
        put32(UInt32(moved.count + 4096), &moved, at: rec + 42)
        guard let (e2, _) = try loadError(moved) else { return }
        switch e2 {
        case .badArchive, .badStorage: break
        default: Issue.record("\(e2)")
        }
    }

    @Test func compressedZipEntryIsRefused() throws {
        var zip = fixtureBytes("hub-zip")
        let rec = try #require(centralRecord(zip, nameSuffix: "/data/0"))
        let local = Int(zip[rec + 42]) | Int(zip[rec + 43]) << 8 | Int(zip[rec + 44]) << 16 | Int(zip[rec + 45]) << 24
        zip[rec + 10] = 8; zip[local + 8] = 8  // deflate, in both headers
        guard let (e, _) = try loadError(zip) else { return }
        guard case let .badArchive(_, why) = e else { Issue.record("\(e)"); return }
        #expect(why.contains("compressed"), "\(e)")
    }

    @Test func wrongMagic() throws {
        // A safetensors file renamed, a text file, and a pickle that is neither layout.
        let safetensors = Array(FileManager.default.contents(atPath: Fixtures.model("tiny-f16") + "/model.safetensors")!)
        for bytes in [safetensors, Array("not a checkpoint\n".utf8), [0x80, 0x02]] {
            guard let (e, _) = try loadError(bytes) else { continue }
            guard case let .badArchive(_, why) = e else { Issue.record("\(e)"); continue }
            #expect(why.contains("wrong magic"), "\(e)")
        }
        // The legacy magic pickle with a different number.
        var legacy = LegacyTorchFile(values: [1, 2], size: [2], stride: [1])
        legacy.header[13] ^= 0xFF
        guard let (e, _) = try loadError(legacy.bytes) else { return }
        guard case .badArchive = e else { Issue.record("\(e)"); return }
    }

    @Test func storageSizesThatLie() throws {
        // Legacy: the data section's element count disagrees with the pickle.
        let legacy = LegacyTorchFile(values: [1, 2, 3, 4], size: [4], stride: [1], countField: 1 << 40)
        guard let (e, _) = try loadError(legacy.bytes) else { return }
        guard case let .badStorage(_, _, why) = e else { Issue.record("\(e)"); return }
        #expect(why.contains("elements"), "\(e)")

        // Zip: the first persistent id declares one element more than its storage entry holds
        // (the numel after 'cpu' in data.pkl, patched in place).
        var zip = fixtureBytes("hub-zip")
        let cpu: [UInt8] = [0x58, 0x03, 0x00, 0x00, 0x00] + Array("cpu".utf8)
        var at = try #require((0..<(zip.count - cpu.count)).first { Array(zip[$0..<($0 + cpu.count)]) == cpu }) + cpu.count
        if zip[at] == 0x71 { at += 2 } else if zip[at] == 0x72 { at += 5 }  // BINPUT / LONG_BINPUT
        try #require([0x4B, 0x4D, 0x4A].contains(zip[at]), "numel opcode \(zip[at])")
        zip[at + 1] &+= 1
        guard let (e2, _) = try loadError(zip) else { return }
        guard case let .badStorage(_, tensor, why2) = e2 else { Issue.record("\(e2)"); return }
        #expect(!tensor.isEmpty && why2.contains("declares") && why2.contains("holds"), "\(e2)")

        // A tensor whose sizes and strides reach past its storage.
        let past = LegacyTorchFile(values: [1, 2, 3, 4], size: [2, 3], stride: [3, 1])
        guard let (e3, _) = try loadError(past.bytes) else { return }
        guard case let .badStorage(_, tensor3, why3) = e3 else { Issue.record("\(e3)"); return }
        #expect(tensor3 == "wte.weight" && why3.contains("reach element 5"), "\(e3)")
    }

    @Test func hugeDeclaredSizes() throws {
        // A storage of 2^61 elements: numel · 4 overflows; nothing is allocated.
        let huge = LegacyTorchFile(values: [1], size: [1], stride: [1], numel: 1 << 61)
        guard let (e, _) = try loadError(huge.bytes) else { return }
        guard case .badStorage = e else { Issue.record("\(e)"); return }
        // A tensor of 2^40 × 2^40 elements over a 1-element storage.
        let wide = LegacyTorchFile(values: [1], size: [1 << 40, 1 << 40], stride: [1 << 40, 1])
        guard let (e2, _) = try loadError(wide.bytes) else { return }
        guard case let .badStorage(_, _, why2) = e2 else { Issue.record("\(e2)"); return }
        #expect(why2.contains("overflow") || why2.contains("reach"), "\(e2)")
        // A str declaring 4 GiB in a 30-byte pickle.
        var legacy = LegacyTorchFile(values: [1], size: [1], stride: [1])
        legacy.stateDict = [0x80, 0x02, 0x58, 0xF0, 0xFF, 0xFF, 0xFF] + Array("short".utf8) + [0x2E]
        guard let (e3, _) = try loadError(legacy.bytes) else { return }
        guard case let .badPickle(_, part, _, why3) = e3 else { Issue.record("\(e3)"); return }
        #expect(part == "state dict pickle" && why3.contains("exceeds"), "\(e3)")
    }

    @Test func pickleNestingBombs() throws {
        var legacy = LegacyTorchFile(values: [1], size: [1], stride: [1])
        // 100 000 nested one-tuples: refused at depth 33.
        legacy.stateDict = [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        guard let (e, _) = try loadError(legacy.bytes) else { return }
        guard case let .badPickle(_, _, offset, why) = e else { Issue.record("\(e)"); return }
        #expect(why.contains("nesting bomb") && offset < 100, "\(e)")
        // 100 000 open MARKs.
        legacy.stateDict = [0x80, 0x02] + [UInt8](repeating: 0x28, count: 100_000) + [0x2E]
        guard let (e2, _) = try loadError(legacy.bytes) else { return }
        guard case let .badPickle(_, _, _, why2) = e2 else { Issue.record("\(e2)"); return }
        #expect(why2.contains("MARK"), "\(e2)")
        // 20 levels of a list holding itself twice (a "billion laughs"): built in linear time, and
        // refused because the state dict's value is not a tensor — nothing walks it.
        var p = Pickle()
        p.proto(); p.global("collections", "OrderedDict"); p.emptyTuple(); p.reduce()
        p.string("wte.weight")
        p.emptyList()
        // Each level: MEMOIZE x as i, POP, x' = [] + APPENDS(memo[i], memo[i]).
        for i in 0..<20 { p.bytes += [0x94, 0x30, 0x5D, 0x28, 0x68, UInt8(i), 0x68, UInt8(i), 0x65] }
        p.bytes += [0x73]  // SETITEM
        p.stop()
        legacy.stateDict = p.bytes
        guard let (e3, _) = try loadError(legacy.bytes) else { return }
        switch e3 {
        case .badStorage(_, "wte.weight", _), .badPickle: break
        default: Issue.record("\(e3)")
        }
    }

    @Test func pickleMemoBomb() throws {
        var legacy = LegacyTorchFile(values: [1], size: [1], stride: [1])
        // More MEMOIZEs than the memo may hold (1 byte each).
        legacy.stateDict = [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x94, count: RestrictedUnpickler.Limits.memo + 1) + [0x2E]
        guard let (e, _) = try loadError(legacy.bytes) else { return }
        guard case let .badPickle(_, _, _, why) = e else { Issue.record("\(e)"); return }
        #expect(why.contains("memo bomb"), "\(e)")
        // A memo read before it was written.
        legacy.stateDict = [0x80, 0x02, 0x6A, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E]
        guard let (e2, _) = try loadError(legacy.bytes) else { return }
        guard case let .badPickle(_, _, _, why2) = e2 else { Issue.record("\(e2)"); return }
        #expect(why2.contains("before it was written"), "\(e2)")
    }

    @Test func unknownOpcodesAndGlobalsAreRefusedByName() throws {
        var legacy = LegacyTorchFile(values: [1], size: [1], stride: [1])
        legacy.stateDict = [0x80, 0x02, 0x69] + Array("os\nsystem\n".utf8) + [0x2E]  // INST
        guard let (e, _) = try loadError(legacy.bytes) else { return }
        guard case let .unsafePickle(_, _, what) = e else { Issue.record("\(e)"); return }
        #expect(what.contains("INST"), "\(e)")
        // A global in a header pickle, where none is allowed, even an allow-listed one.
        legacy = LegacyTorchFile(values: [1], size: [1], stride: [1])
        var p = Pickle(); p.proto(); p.global("collections", "OrderedDict"); p.stop()
        legacy.header = LegacyTorchFile.magicPickle + LegacyTorchFile.protocolPickle + p.bytes
        guard let (e2, _) = try loadError(legacy.bytes) else { return }
        guard case let .unsafePickle(_, part, what2) = e2 else { Issue.record("\(e2)"); return }
        #expect(part == "sys info" && what2.contains("collections.OrderedDict"), "\(e2)")
        // A Python 2 spelling is named as Python 3 imports it.
        legacy = LegacyTorchFile(values: [1], size: [1], stride: [1])
        p = Pickle(); p.proto(); p.global("__builtin__", "eval"); p.stop()
        legacy.stateDict = p.bytes
        guard let (e3, _) = try loadError(legacy.bytes) else { return }
        guard case let .unsafePickle(_, _, what3) = e3 else { Issue.record("\(e3)"); return }
        #expect(what3.contains("'builtins.eval'") && what3.contains("__builtin__.eval"), "\(e3)")
    }

    @Test func handWrittenLegacyFileLoadsItsTensor() throws {
        // The writer itself is right: an undamaged file reads back (a 2×2 transposed view, copied).
        let dir = makeTempDirectory("pt-ok"); defer { removeDirectory(dir) }
        let path = dir + "/x.bin"
        try writeFile(LegacyTorchFile(values: [1, 2, 3, 4], size: [2, 2], stride: [1, 2]).bytes, to: path)
        let files = try PyTorchCheckpoint.open(path: path)
        #expect(files.count == 2)
        #expect(try files[1].floats("wte.weight") == [1, 3, 2, 4])
    }
}
