// CheckpointFileTests — checkpoint files a careless or hostile user can hand the loader: a FIFO as
// model.safetensors (open(2) used to block start-up forever), an oversized config.json, values quoted
// in errors; and a mapped weight file changed in place (MappedFile: fileChanged, damage, restore).

import Foundation
import GPT2Core
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CheckpointFileTests {
    /// A temporary directory with real copies of the tiny fixture's config.json and model.safetensors.
    private func copyOfTiny() throws -> String {
        let dir = NSTemporaryDirectory() + "gpt2-ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: Fixtures.model("tiny-gpt2") + "/" + name, toPath: dir + "/" + name)
        }
        return dir
    }

    @Test func aFIFOAsTheWeightFileIsRefusedWithoutBlocking() throws {
        let dir = try copyOfTiny()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        unlink(dir + "/model.safetensors")
        #expect(mkfifo(dir + "/model.safetensors", 0o600) == 0)
        #expect(throws: CheckpointError.cannotOpen(path: dir + "/model.safetensors", reason: "is a FIFO, not a regular file")) {
            _ = try CheckpointLoader.load(directory: dir)
        }
    }

    @Test func aConfigOverOneMiBIsRefused() throws {
        let dir = try copyOfTiny()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.json"
        try Data(repeating: 0x20, count: 2 << 20).write(to: URL(fileURLWithPath: path))
        do {
            _ = try CheckpointLoader.load(directory: dir)
            Issue.record("expected an error")
        } catch let e as CheckpointError {
            #expect("\(e)" == "\(path): cannot open: \(2 << 20) bytes exceeds the 1 MiB limit for this file")
        }
    }

    @Test func configErrorsQuoteAFewHundredBytesOfAValue() throws {
        let huge = String(repeating: "g", count: 500_000)
        do {
            _ = try GPT2Config.parse(Data("{\"activation_function\": \"\(huge)\"}".utf8), file: "c.json")
            Issue.record("expected an error")
        } catch let e as CheckpointError {
            #expect("\(e)".utf8.count < 600)
            #expect("\(e)".contains("bytes)"))
        }
        let dtype = CheckpointError.unknownDType(file: "m", tensor: huge, dtype: huge)
        #expect("\(dtype)".utf8.count < 600)
    }

    @Test func aMappingNoticesItsFileChangingAndIsRestoredInPlace() throws {
        let dir = try copyOfTiny()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.safetensors"
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let file = try SafeTensorsFile.open(path: path)
        let m = file.mapping
        let last = m.size - 1
        let before = m.bytes[last]
        #expect(!m.fileChanged() && !m.isDamaged)

        #expect(truncate(path, 4096) == 0)
        #expect(m.fileChanged())
        #expect(m.bytes[last] == 0)         // past the new end: zero pages, not SIGBUS
        #expect(m.isDamaged)
        #expect(!m.restoreIfWhole())        // still short

        let fd = open(path, O_WRONLY | O_TRUNC)
        #expect(original.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == original.count)
        close(fd)
        #expect(m.restoreIfWhole())
        #expect(!m.isDamaged && !m.fileChanged())
        #expect(m.bytes[last] == before)
        #expect(Array(UnsafeRawBufferPointer(start: m.base, count: 64)) == Array(original.prefix(64)))
    }
}
