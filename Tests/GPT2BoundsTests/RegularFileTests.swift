// RegularFileTests — FIFOs and devices are refused at once (a FIFO with no writer would block a plain
// open(2)), sizes past the cap are refused before reading, and the errors say why.

import Foundation
import GPT2Bounds
import Testing
#if canImport(Glibc)
import Glibc
#endif

private func tempPath(_ tag: String) -> String {
    NSTemporaryDirectory() + "gpt2-bounds-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
}

@Suite struct RegularFileTests {
    @Test func readsARegularFileWithinItsCap() throws {
        let p = tempPath("ok")
        defer { unlink(p) }
        #expect(FileManager.default.createFile(atPath: p, contents: Data("hello".utf8)))
        #expect(try RegularFile.read(p, limit: 5) == Array("hello".utf8))
        #expect(throws: RegularFileError.tooLarge(path: p, size: 5, limit: 4)) { try RegularFile.read(p, limit: 4) }
        #expect(throws: RegularFileError.notFound(path: p + "-missing")) { try RegularFile.read(p + "-missing", limit: 4) }
    }

    @Test func refusesAFIFOWithoutBlocking() throws {
        let p = tempPath("fifo")
        #expect(mkfifo(p, 0o600) == 0)
        defer { unlink(p) }
        let started = Date()
        #expect(throws: RegularFileError.notRegular(path: p, kind: "FIFO")) { try RegularFile.read(p, limit: 1 << 20) }
        // No writer ever opens the FIFO: returning at all shows open(2) did not wait for one.
        #expect(Date().timeIntervalSince(started) < 30)
        #expect("\(RegularFileError.notRegular(path: p, kind: "FIFO"))" == "\(p): is a FIFO, not a regular file")
    }

    @Test func refusesDevicesAndDirectories() throws {
        #expect(throws: RegularFileError.notRegular(path: "/dev/zero", kind: "character device")) {
            try RegularFile.read("/dev/zero", limit: 16)
        }
        #expect(throws: RegularFileError.notRegular(path: "/tmp", kind: "directory")) { try RegularFile.open("/tmp") }
    }

    @Test func tooLargeNamesTheCap() {
        let e = RegularFileError.tooLarge(path: "/x/config.json", size: 2 << 20, limit: RegularFile.Caps.configFile)
        #expect(e.description == "/x/config.json: 2097152 bytes exceeds the 1 MiB limit for this file")
        #expect(RegularFile.Caps.tokenizerFile == 64 << 20)
    }
}

@Suite struct UserTextTests {
    @Test func shortValuesAreUnchanged() {
        #expect(UserText.clip("abc") == "abc")
        #expect(UserText.quoted("a\"b") == #""a\"b""#)
    }

    @Test func longValuesAreCutAndSayTheirLength() {
        let long = String(repeating: "x", count: 1_000_000)
        let c = UserText.clip(long)
        #expect(c == String(repeating: "x", count: 200) + "…(1000000 bytes)")
        #expect(UserText.quoted(long) == "\"" + String(repeating: "x", count: 200) + "\"…(1000000 bytes)")
        // Never cuts inside a scalar: 'é' is 2 bytes, so 199 bytes hold 99 of them.
        let accents = String(repeating: "é", count: 500)
        #expect(UserText.clip(accents, limit: 199) == String(repeating: "é", count: 99) + "…(1000 bytes)")
    }
}
