// ConfigFileBoundsTests — the daemon's config file is a regular file of at most 1 MiB (or /dev/null):
// a FIFO is refused without blocking, a 2 MiB file is refused, and an error quotes at most a few
// hundred bytes of a bad line.

import Foundation
@testable import GPT2Daemon
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ConfigFileBoundsTests {
    private func tempPath() -> String { NSTemporaryDirectory() + "gpt2d-conf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let p = tempPath()
        #expect(mkfifo(p, 0o600) == 0)
        defer { unlink(p) }
        do { _ = try ConfigFile.readText(p); Issue.record("expected an error") }
        catch let e as ConfigReadError { #expect(e.message == "is a FIFO, not a regular file") }
        #expect(try ConfigFile.readText("/dev/null") == "")
    }

    @Test func aTwoMiBFileIsRefused() throws {
        let p = tempPath()
        defer { unlink(p) }
        try Data(repeating: UInt8(ascii: "#"), count: 2 << 20).write(to: URL(fileURLWithPath: p))
        do { _ = try ConfigFile.readText(p); Issue.record("expected an error") }
        catch let e as ConfigReadError { #expect(e.message == "\(2 << 20) bytes exceeds the 1 MiB limit for this file") }
        do {
            _ = try DaemonConfig.load(configPath: p, overrides: ConfigOverrides())
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("1 MiB limit"))
        }
    }

    @Test func errorsQuoteAFewHundredBytesOfALine() throws {
        let huge = String(repeating: "v", count: 900_000)
        for text in ["threads = \(huge)\n", "\(huge)\n", "\(huge) = 1\n"] {
            do {
                _ = try ConfigFile.parse(text, path: "/etc/gpt2d/gpt2d.conf")
                Issue.record("expected an error")
            } catch {
                #expect("\(error)".utf8.count < 1500)
                #expect("\(error)".contains("bytes)"))
            }
        }
    }
}
