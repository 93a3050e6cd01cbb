// The `cache_dir` setting (issue #11, point 3): auto / none / a path, how auto resolves against
// systemd's $CACHE_DIRECTORY, that the load options carry the folder, and that a daemon whose cache
// folder cannot be written serves its quantized models anyway, logging one warning for all of them.
import Foundation
import GPT2Core
import Logging
import GPT2TestSupport
import Testing
@testable import GPT2Daemon

@Suite struct CacheDirSettingTests {
    @Test func parsesAutoNoneAndAbsolutePaths() throws {
        let type = SettingType<CacheDirectorySetting>.autoNoneOrPath
        #expect(try type.parse("auto") == .auto)
        #expect(try type.parse("NONE") == .none)
        #expect(try type.parse("/var/cache/x") == .path("/var/cache/x"))
        #expect(throws: SettingValueError.self) { try type.parse("relative/dir") }
        for v in [CacheDirectorySetting.auto, .none, .path("/a/b")] { #expect(try type.parse(type.format(v)) == v) }
        #expect(DaemonSettings.cacheDir.defaultValue == .auto)
        #expect(DaemonSettings.setting(forKey: "cache_dir")?.defaultText == "auto")
    }

    @Test func autoIsSystemdsCacheDirectoryElseNone() {
        #expect(CacheDirectorySetting.auto.directory(environment: ["CACHE_DIRECTORY": "/var/cache/gpt2d"]) == "/var/cache/gpt2d")
        #expect(CacheDirectorySetting.auto.directory(environment: ["CACHE_DIRECTORY": "/var/cache/a:/var/cache/b"]) == "/var/cache/a")
        #expect(CacheDirectorySetting.auto.directory(environment: [:]) == nil)
        #expect(CacheDirectorySetting.auto.directory(environment: ["CACHE_DIRECTORY": ""]) == nil)
        #expect(CacheDirectorySetting.none.directory(environment: ["CACHE_DIRECTORY": "/var/cache/gpt2d"]) == nil)
        #expect(CacheDirectorySetting.path("/x").directory(environment: ["CACHE_DIRECTORY": "/y"]) == "/x")
    }

    @Test func loadOptionsCarryTheFolder() {
        var c = DaemonConfig()
        c.cacheDir = .path("/srv/cache")
        #expect(c.loadOptions(for: ModelSpec(name: "a", directory: "/m", weightType: .q4)).cacheDirectory == "/srv/cache")
        c.cacheDir = .none
        #expect(c.loadOptions(for: ModelSpec(name: "a", directory: "/m")).cacheDirectory == nil)
    }

    @Test func anUnwritableFolderServesAndWarnsOnce() throws {
        let log = CapturedLog()
        var c = DaemonConfig()
        c.models = [ModelSpec(name: "a", directory: TestPaths.tinyModel, weightType: .int8),
                    ModelSpec(name: "b", directory: TestPaths.tinyModel, weightType: .q4)]
        c.threads = TestThreads.count  // one pool size for the whole run (GPT2TestSupport/TestThreads.swift)
        c.kvCacheMiB = 64
        c.cacheDir = .path("/proc/gpt2d-cache")  // /proc takes no new folders, even from root
        let daemon = try Daemon(config: c, logger: Logger(label: "test", factory: { _ in log }))
        #expect(daemon.config.models.count == 2)
        let warnings = log.lines.filter { $0.level == .warning }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.message.contains("cache") == true)
        let loaded = log.lines.filter { $0.message == "model loaded" }
        #expect(loaded.count == 2 && loaded.allSatisfy { $0.cache == "miss" })
    }
}

/// A LogHandler keeping every line (level, message, the `cache` metadata value).
final class CapturedLog: LogHandler, @unchecked Sendable {
    struct Line { let level: Logger.Level; let message: String; let cache: String? }
    private let lock = NSLock()
    private var stored: [Line] = []
    var lines: [Line] { lock.withLock { stored } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let cache = event.metadata?["cache"].map { "\($0)" }
        lock.withLock { stored.append(Line(level: event.level, message: event.message.description, cache: cache)) }
    }
}
