// ConfigTests — the config file format, command-line overrides, and the shipped example.

import Foundation
@testable import GPT2Daemon
import Logging
import Testing

@Suite struct ConfigTests {
    @Test func exampleFileParsesAndDocumentsEveryKey() throws {
        let path = TestPaths.repoRoot + "/systemd/gpt2d.conf.example"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let c = try ConfigFile.parse(text, path: path)
        #expect(c.socketPath == "/run/gpt2d/gpt2d.sock")
        #expect(c.models == [ModelSpec(name: "gpt2", directory: "/usr/share/gpt2d/models/gpt2")])
        #expect(c.threads == 0)
        #expect(c.kvCacheMiB == 1024)
        #expect(c.kvBlockTokens == 32)
        #expect(c.maxBatchTokens == 512)
        #expect(c.sessionIdleTimeoutSeconds == 600)
        #expect(c.maxLineBytes == 1_048_576)
        #expect(c.maxSessions == 64)
        #expect(c.maxPending == 1024)
        #expect(c.mlock == false)
        #expect(c.drainTimeoutSeconds == 10)
        #expect(c.logLevel == .info)
        // Every accepted key appears as a `key =` line in the example (commented or not).
        for key in ConfigFile.keyNames {
            #expect(text.contains("\n\(key) =") || text.contains("\n#\(key) ="), "key \(key) is not documented")
        }
    }

    @Test func commentsBlankLinesWhitespaceAndRepeatedModels() throws {
        let text = """
        # a comment

           threads   =   3  \r
        model = a=/m/a
          # indented comment
        model=b = /m/b dir
        log_level = DEBUG
        mlock = yes
        """
        let c = try ConfigFile.parse(text, path: "t.conf")
        #expect(c.threads == 3)
        #expect(c.models == [ModelSpec(name: "a", directory: "/m/a"), ModelSpec(name: "b", directory: "/m/b dir")])
        #expect(c.logLevel == .debug)
        #expect(c.mlock)
    }

    @Test(arguments: [
        ("threads = 2\nbogus = 1\n", "t.conf:2", "unknown key 'bogus'"),
        ("threads = 2\nthreads = 3\n", "t.conf:2", "given twice"),
        ("\n\nthreads\n", "t.conf:3", "expected `key = value`"),
        ("kv_cache_mib = lots\n", "t.conf:1", "kv_cache_mib"),
        ("max_sessions = -1\n", "t.conf:1", "max_sessions"),
        ("log_level = loud\n", "t.conf:1", "log_level"),
        ("model = nodir\n", "t.conf:1", "NAME=DIR"),
        ("mlock = maybe\n", "t.conf:1", "mlock"),
        ("socket = relative.sock\n", "t.conf:1", "absolute"),
    ])
    func badLinesNameFileAndLine(text: String, location: String, fragment: String) {
        #expect {
            _ = try ConfigFile.parse(text, path: "t.conf")
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.location == location && e.description.contains(fragment)
        }
    }

    @Test func missingDefaultFileIsFineMissingExplicitFileIsAnError() throws {
        let none: (String) throws -> String? = { _ in nil }
        var o = ConfigOverrides()
        o.set("model", "tiny=/x")
        let c = try DaemonConfig.load(configPath: nil, overrides: o, readFile: none)
        #expect(c.models == [ModelSpec(name: "tiny", directory: "/x")])
        #expect(throws: ConfigError.self) {
            _ = try DaemonConfig.load(configPath: "/nonexistent/gpt2d.conf", overrides: o, readFile: none)
        }
    }

    @Test func commandLineOverridesTheFileAndReplacesModels() throws {
        let file = "model = a=/m/a\nmodel = b=/m/b\nthreads = 4\nkv_cache_mib = 100\nlog_level = error\n"
        var o = ConfigOverrides()
        o.set("threads", "1")
        o.set("model", "c=/m/c")
        o.set("log_level", "debug")
        let c = try DaemonConfig.load(configPath: "f.conf", overrides: o, readFile: { _ in file })
        #expect(c.threads == 1)
        #expect(c.kvCacheMiB == 100)
        #expect(c.logLevel == .debug)
        #expect(c.models == [ModelSpec(name: "c", directory: "/m/c")])
        // Engine options follow, threads 0 meaning "all CPUs".
        var z = c
        z.threads = 0
        #expect(z.engineOptions(availableProcessors: 6).threads == 6)
        #expect(c.engineOptions(availableProcessors: 6).kvCacheBytes == 100 << 20)
    }

    @Test func badOverrideNamesTheOption() {
        var o = ConfigOverrides()
        o.set("kv_cache_mib", "-5")
        #expect {
            _ = try DaemonConfig.load(configPath: nil, overrides: o, readFile: { _ in nil })
        } throws: { error in
            (error as? ConfigError)?.location == "--kv-cache-mib"
        }
    }

    @Test func duplicateModelNamesAreRejected() {
        #expect(throws: ConfigError.self) {
            _ = try DaemonConfig.load(configPath: "f", overrides: ConfigOverrides(),
                                      readFile: { _ in "model = a=/x\nmodel = a=/y\n" })
        }
    }

    /// Real files through read(2): /dev/null is an empty configuration, a missing file is nil, a
    /// directory and non-UTF-8 bytes are errors that say why.
    @Test func readTextHandlesDevicesAndSaysWhy() throws {
        #expect(try ConfigFile.readText("/dev/null") == "")
        #expect(try ConfigFile.readText("/nonexistent/gpt2d.conf") == nil)
        #expect(throws: ConfigReadError.self) { try ConfigFile.readText("/tmp") }
        let bad = NSTemporaryDirectory() + "gpt2d-bad-\(getpid()).conf"
        #expect(FileManager.default.createFile(atPath: bad, contents: Data([0x74, 0xFF, 0x0A])))
        defer { try? FileManager.default.removeItem(atPath: bad) }
        do { _ = try ConfigFile.readText(bad); Issue.record("expected an error") }
        catch let e as ConfigReadError { #expect(e.message == "not UTF-8 text") }
        let c = try DaemonConfig.load(configPath: "/dev/null", overrides: ConfigOverrides())
        #expect(c.models.isEmpty)
    }
}
