// ZipDirectory, the archive central-directory reader under pytorch_model.bin: the committed torch.save
// fixture re-encoded with ZIP64 records (as torch writes archives past 4 GiB) reads back the same
// entries and tensors, and hostile ZIP64 fields — a directory offset past Int64.max (the input that
// crashed the archive library used before, found by FuzzPickle), an entry count no directory can hold,
// a short ZIP64 extra field, duplicate names, a missing end record — are each a badArchive error.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// A stored-entries archive re-encoded with ZIP64: every central record's sizes and local-header offset
/// saturated (0xFFFFFFFF) and carried in a ZIP64 extra field, then a ZIP64 end record, its locator
/// and an end record whose count, size and offset are saturated too. Local headers and data stay.
private struct Zip64Rewrite {
    var bytes: [UInt8]
    /// Offsets of the ZIP64 end record's fields, for the tests to damage.
    let zip64End: Int
    /// Offset of the first central record.
    let directory: Int

    init(_ archive: [UInt8]) throws {
        let entries = try archive.withUnsafeBytes { try ZipDirectory.entries($0, file: "original") }
        let end = try #require(endRecord(archive))
        let oldDirectory = Int(le32(archive, end + 16))
        var out = Array(archive[..<oldDirectory])
        var at = oldDirectory
        for entry in entries {
            let nameLength = Int(le16(archive, at + 28)), extra = Int(le16(archive, at + 30)), comment = Int(le16(archive, at + 32))
            var record = Array(archive[at..<(at + 46)])
            put(&record, 20, 0xFFFF_FFFF, 4); put(&record, 24, 0xFFFF_FFFF, 4); put(&record, 42, 0xFFFF_FFFF, 4)
            put(&record, 30, 28, 2); put(&record, 32, 0, 2)
            record += archive[(at + 46)..<(at + 46 + nameLength)]
            var field = [UInt8](repeating: 0, count: 28)
            put(&field, 0, 1, 2); put(&field, 2, 24, 2)
            put(&field, 4, entry.uncompressedSize, 8); put(&field, 12, entry.compressedSize, 8); put(&field, 20, entry.localHeaderOffset, 8)
            out += record + field
            at += 46 + nameLength + extra + comment
        }
        let directorySize = out.count - oldDirectory
        let zip64End = out.count
        var record = [UInt8](repeating: 0, count: 56)
        put(&record, 0, 0x0606_4B50, 4); put(&record, 4, 44, 8); put(&record, 12, 45, 2); put(&record, 14, 45, 2)
        put(&record, 24, UInt64(entries.count), 8); put(&record, 32, UInt64(entries.count), 8)
        put(&record, 40, UInt64(directorySize), 8); put(&record, 48, UInt64(oldDirectory), 8)
        var locator = [UInt8](repeating: 0, count: 20)
        put(&locator, 0, 0x0706_4B50, 4); put(&locator, 8, UInt64(zip64End), 8); put(&locator, 16, 1, 4)
        var last = [UInt8](repeating: 0, count: 22)
        put(&last, 0, 0x0605_4B50, 4); put(&last, 8, 0xFFFF, 2); put(&last, 10, 0xFFFF, 2)
        put(&last, 12, 0xFFFF_FFFF, 4); put(&last, 16, 0xFFFF_FFFF, 4)
        bytes = out + record + locator + last
        self.zip64End = zip64End
        directory = oldDirectory
    }
}

/// Offset of the last end-of-central-directory signature (PK\5\6).
private func endRecord(_ archive: [UInt8]) -> Int? {
    let signature: [UInt8] = [0x50, 0x4B, 5, 6]
    for at in stride(from: archive.count - 22, through: 0, by: -1) where Array(archive[at..<(at + 4)]) == signature { return at }
    return nil
}

private func le16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
private func le32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) } }
private func put(_ b: inout [UInt8], _ at: Int, _ value: UInt64, _ width: Int) {
    for k in 0..<width { b[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
}

private func hubZip() -> [UInt8] {
    Array(FileManager.default.contents(atPath: PyTorchFixtures.directory("hub-zip") + "/pytorch_model.bin")!)
}

/// The badArchive reason for `bytes` read as a archive directory.
private func directoryError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    do {
        _ = try bytes.withUnsafeBytes { try ZipDirectory.entries($0, file: "damaged.bin") }
        Issue.record("read", sourceLocation: sourceLocation)
    } catch let CheckpointError.badArchive(file, reason) {
        #expect(file == "damaged.bin", sourceLocation: sourceLocation)
        return reason
    } catch {
        Issue.record("\(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite struct ZipDirectoryTests {
    @Test func zip64RecordsReadTheSameEntriesAndTensors() throws {
        let original = hubZip()
        let rewrite = try Zip64Rewrite(original)
        let plain = try original.withUnsafeBytes { try ZipDirectory.entries($0, file: "plain") }
        let wide = try rewrite.bytes.withUnsafeBytes { try ZipDirectory.entries($0, file: "zip64") }
        #expect(plain.count > 5 && wide == plain)
        #expect(plain.contains { $0.name.hasSuffix("/data.pkl") && $0.method == 0 })

        let dir = makeTempDirectory("zip64"); defer { removeDirectory(dir) }
        try writeFile(original, to: dir + "/plain.bin")
        try writeFile(rewrite.bytes, to: dir + "/zip64.bin")
        let a = try PyTorchCheckpoint.open(path: dir + "/plain.bin"), b = try PyTorchCheckpoint.open(path: dir + "/zip64.bin")
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) {
            #expect(x.names == y.names && !x.names.isEmpty)
            for name in x.names { #expect(try x.floats(name) == y.floats(name), "\(name)") }
        }
    }

    @Test func aDirectoryOffsetPastInt64MaxIsRefused() throws {
        var rewrite = try Zip64Rewrite(hubZip())
        put(&rewrite.bytes, rewrite.zip64End + 48, 0xFFFF_FFFF_FFFF_FF00, 8)
        let why = try #require(directoryError(rewrite.bytes))
        #expect(why.contains("central directory") && why.contains("outside"), "\(why)")
        // The ZIP64 end record's own offset past Int64.max.
        var locator = try Zip64Rewrite(hubZip())
        put(&locator.bytes, locator.bytes.count - 22 - 20 + 8, UInt64.max, 8)
        #expect(directoryError(locator.bytes)?.contains("ZIP64 end record") == true)
        // A size that wraps when added to the offset.
        var wrap = try Zip64Rewrite(hubZip())
        put(&wrap.bytes, wrap.zip64End + 40, UInt64.max - 10, 8)
        #expect(directoryError(wrap.bytes)?.contains("outside") == true)
    }

    @Test func anEntryCountNoDirectoryCanHoldIsRefusedBeforeAllocating() throws {
        var rewrite = try Zip64Rewrite(hubZip())
        put(&rewrite.bytes, rewrite.zip64End + 32, 1 << 60, 8)
        let why = try #require(directoryError(rewrite.bytes))
        #expect(why.contains("cannot fit"), "\(why)")
    }

    @Test func aShortZip64FieldAndDuplicateNamesAreRefused() throws {
        // The first record's ZIP64 field declares 16 of its 24 bytes: the local-header offset is missing.
        var short = try Zip64Rewrite(hubZip())
        let nameLength = Int(le16(short.bytes, short.directory + 28))
        put(&short.bytes, short.directory + 46 + nameLength + 2, 16, 2)
        let why = try #require(directoryError(short.bytes))
        #expect(why.contains("ZIP64 field is too short"), "\(why)")

        // A storage entry renamed in its central record to another's name of the same length: the
        // longest data/ keys, so neither is a prefix of another name (data/1 is one of data/10).
        var archive = hubZip()
        let entries = try archive.withUnsafeBytes { try ZipDirectory.entries($0, file: "plain") }
        let keys = entries.map(\.name).filter { $0.contains("/data/") }
        let longest = keys.map(\.utf8.count).max() ?? 0
        let same = keys.filter { $0.utf8.count == longest }
        try #require(same.count >= 2, "\(keys)")
        let (first, second) = (same[0], same[1])
        let secondBytes = Array(second.utf8)
        let candidates = 0...(archive.count - secondBytes.count)
        let last: Int = try #require(candidates.last { (at: Int) -> Bool in Array(archive[at..<(at + secondBytes.count)]) == secondBytes })
        archive.replaceSubrange(last..<(last + secondBytes.count), with: Array(first.utf8))
        #expect(directoryError(archive)?.contains("two entries named") == true)
    }

    @Test func noEndRecordIsRefused() {
        let archive = hubZip()
        #expect(directoryError(Array(archive.dropLast(22)))?.contains("end-of-central-directory") == true)
        #expect(directoryError([]) != nil)
        #expect(directoryError(Array("PK\u{5}\u{6}".utf8)) != nil)
    }

    /// The inputs FuzzPickle crashed on (Tests/Fixtures/fuzz/regressions/FuzzPickle; byte 0 even: the
    /// rest is a whole pytorch_model.bin), opened as the fuzz target opens them: a badArchive error each.
    @Test func theFuzzerCrashInputsAreRefused() throws {
        let folder = Fixtures.root + "/Tests/Fixtures/fuzz/regressions/FuzzPickle"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("crash-zip64") }
        #expect(names.count >= 2)
        let dir = makeTempDirectory("archive-crash"); defer { removeDirectory(dir) }
        for name in names {
            let input = Array(try #require(FileManager.default.contents(atPath: folder + "/" + name)))
            try #require(input.first.map { $0 & 1 == 0 } == true)
            try writeFile(Array(input.dropFirst()), to: dir + "/" + name)
            #expect(throws: CheckpointError.self, "\(name)") { _ = try PyTorchCheckpoint.open(path: dir + "/" + name) }
            #expect(directoryError(Array(input.dropFirst()))?.contains("outside") == true, "\(name)")
        }
    }
}
