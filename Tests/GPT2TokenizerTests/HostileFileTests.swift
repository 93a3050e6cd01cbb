// HostileFileTests — tokenizer files a careless or hostile user points the daemon at: a FIFO is
// refused without blocking, a file past its cap is refused from its size, and an error quotes at most
// a few hundred bytes of a huge value (a 1 GB vocab.json used to yield a 1 GB error line).

import Foundation
import Testing
@testable import GPT2Tokenizer
#if canImport(Glibc)
import Glibc
#endif

@Suite struct HostileFileTests {
    @Test func aFIFOVocabularyIsRefusedAtOnce() throws {
        let dir = TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/vocab.json", 0o600) == 0)
        try "#version: 0.2\n".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        do {
            _ = try GPT2Tokenizer.load(directory: dir)
            Issue.record("expected an error")
        } catch let e as TokenizerError {
            #expect("\(e)" == "\(dir)/vocab.json: cannot read: is a FIFO, not a regular file")
        }
    }

    @Test func aHugeValueIsQuotedShort() throws {
        let dir = TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let huge = String(repeating: "x", count: 2_000_000)
        try "{\"a\": \"\(huge)\"}".write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        try "#version: 0.2\n".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        do {
            _ = try GPT2Tokenizer.load(directory: dir)
            Issue.record("expected an error")
        } catch let e as TokenizerError {
            let text = "\(e)"
            #expect(text.utf8.count < 800)
            #expect(text.contains("…(2000002 bytes)"))
        }
        // A merges line of a megabyte: the same bound.
        try "{\"a\": 0}".write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        try "#version: 0.2\n\(huge) y z\n".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        let merge = TokenizerError.malformedMerge(file: "m", line: 2, text: huge + " y z")
        #expect("\(merge)".utf8.count < 600)
    }

    @Test func aFileOverItsCapIsRefusedFromItsSize() throws {
        let dir = TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/vocab.json"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(65 << 20)) == 0)   // sparse: 65 MiB of size, nothing written
        try "#version: 0.2\n".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        do {
            _ = try GPT2Tokenizer.load(directory: dir)
            Issue.record("expected an error")
        } catch let e as TokenizerError {
            #expect("\(e)" == "\(path): cannot read: \(65 << 20) bytes exceeds the 64 MiB limit for this file")
        }
    }
}
