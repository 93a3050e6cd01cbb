// SettingsTableTests — the settings table drives the command line, `--help`, precedence, the reload
// diff and the defaults of every other layer (EngineOptions, KVBlockPool).

import Foundation
import GPT2Core
import GPT2TestSupport
import GPT2Wire
@testable import GPT2Daemon
import Logging
import Testing

/// A configuration in which every setting differs from its default.
private func everythingChanged() -> DaemonConfig {
    var c = DaemonConfig()
    c.socketPath = "/tmp/other.sock"
    c.httpSocket = .path("/tmp/other-http.sock")
    c.models = [ModelSpec(name: "m", directory: "/m")]
    c.threads = 3
    c.kvCacheMiB = 7
    c.kvBlockTokens = 16
    c.maxBatchTokens = 99
    c.maxRequestRows = 77
    c.sessionIdleTimeoutSeconds = 1.5
    c.maxSessions = 5
    c.maxPending = 6
    c.maxSessionsPerUser = 4
    c.maxPendingPerUser = 3
    c.maxInflightTokensPerUser = 555
    c.maxSessionTokensPerUser = 4444
    c.maxLineBytes = 4096
    c.connectionIdleTimeoutSeconds = 7
    c.adminGroup = "wheel"
    c.adminTokens = ["ops-bot", "grafana"]
    c.maxConnectionReplyMiB = 3
    c.maxReplyMiB = 9
    c.logLevel = .error
    c.mlock = true
    c.weightType = .int8
    c.matmulPrecision = .medium
    c.cacheDir = .path("/var/cache/other")
    c.stateDir = .path("/var/lib/other")
    c.kvSnapshotMiB = 64
    c.kvDType = .float16
    c.drainTimeoutSeconds = 2
    c.metricsTextfile = "/var/lib/prometheus/node-exporter/other.prom"
    c.metricsTextfileIntervalSeconds = 30
    c.httpTCP = LoopbackAddress(host: "127.0.0.1", port: 8000)
    c.httpTokensFile = "/etc/gpt2d/other-tokens"
    return c
}

@Suite struct SettingsTableTests {
    @Test func keysAreUniqueAndOptionsFollowKeys() {
        let keys = DaemonSettings.all.map(\.key)
        #expect(Set(keys).count == keys.count)
        #expect(ConfigFile.keyNames == keys)
        for s in DaemonSettings.all {
            #expect(s.option == "--" + s.key.replacingOccurrences(of: "_", with: "-"))
            #expect(DaemonSettings.setting(forKey: s.key)?.option == s.option)
        }
        #expect(DaemonSettings.liveKeys == ["model", "max_line_bytes", "connection_idle_timeout_s", "max_connection_reply_mib", "max_reply_mib",
                                            "admin_group", "admin_tokens", "log_level", "drain_timeout_s"])
    }

    @Test func helpListsEverySettingWithItsDefaultAndReloadBehaviour() {
        let help = DaemonHelp.text()
        // As one line of words (the text is wrapped).
        let words = help.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        for s in DaemonSettings.all {
            #expect(help.contains("\(s.option) <\(s.valueName)>"), "\(s.option) missing from --help")
            if let d = s.defaultText { #expect(words.contains("default: \(d)"), "default of \(s.key)") }
        }
        let lines = help.split(separator: "\n").map(String.init)
        // One option line per setting, in table order, then --version and --help.
        let optionLines = lines.filter { $0.hasPrefix("  --") || $0.hasPrefix("  -h") }
        let names = optionLines.map { String($0.dropFirst(2).prefix { $0 != " " }) }
        #expect(names == ["--config"] + DaemonSettings.all.map(\.option) + ["--version", "-h,"])
        #expect(words.components(separatedBy: "SIGHUP applies it").count - 1 == DaemonSettings.liveKeys.count)
        #expect(words.contains("SIGHUP re-reads the config file (model, max_line_bytes, connection_idle_timeout_s, max_connection_reply_mib, "
            + "max_reply_mib, admin_group, admin_tokens, log_level, drain_timeout_s apply live"))
        #expect(help.contains("EXIT STATUS"))
        #expect(optionLines.allSatisfy { $0.count <= DaemonHelp.width })
    }

    @Test func commandLineAcceptsEveryTableOptionInBothForms() throws {
        for s in DaemonSettings.all {
            let value = s.defaultText ?? "a=/x"
            let spaced = try DaemonCommandLine.parse([s.option, value])
            #expect(spaced == .run(configPath: nil, overrides: ConfigOverrides([.init(s.key, value)])))
            let joined = try DaemonCommandLine.parse(["\(s.option)=\(value)"])
            #expect(joined == spaced)
        }
        #expect(try DaemonCommandLine.parse(["--config", "/etc/x.conf", "--threads", "-1"])
            == .run(configPath: "/etc/x.conf", overrides: ConfigOverrides([.init("threads", "-1")])))
        #expect(try DaemonCommandLine.parse(["--threads", "1", "--help"]) == .help)
        #expect(try DaemonCommandLine.parse(["-h"]) == .help)
        #expect(try DaemonCommandLine.parse(["--version"]) == .version)
        #expect(try DaemonCommandLine.parse([]) == .run(configPath: nil, overrides: ConfigOverrides()))
    }

    @Test(arguments: [
        (["--no-such-option"], "Unknown option '--no-such-option'"),
        (["--threads"], "Missing value for '--threads'"),
        (["--socket", "--model", "a=/x"], "Missing value for '--socket'"),
        (["stray"], "Unexpected argument 'stray'"),
        (["-x"], "Unknown option '-x'"),
    ])
    func badCommandLinesSayWhy(arguments: [String], message: String) {
        #expect(throws: UsageError(message)) { try DaemonCommandLine.parse(arguments) }
    }

    /// defaults < file < command line, through the parsed command line: the last single value wins,
    /// `--model` values accumulate and replace the file's models.
    @Test func commandLineOverFileOverDefaults() throws {
        let file = "model = a=/m/a\nthreads = 4\nlog_level = error\nmlock = yes\n"
        let command = try DaemonCommandLine.parse([
            "--config", "f.conf", "--threads", "1", "--threads=3", "--model", "b=/m/b", "--model=c=/m/c",
            "--log-level", "DEBUG",
        ])
        guard case .run(let path, let overrides) = command else { Issue.record("not a run"); return }
        let c = try DaemonConfig.load(configPath: path, overrides: overrides, readFile: { _ in file })
        #expect(c.threads == 3)
        #expect(c.models == [ModelSpec(name: "b", directory: "/m/b"), ModelSpec(name: "c", directory: "/m/c")])
        #expect(c.logLevel == .debug)
        #expect(c.mlock)
        var expected = DaemonConfig()
        expected.threads = 3
        expected.models = c.models
        expected.logLevel = .debug
        expected.mlock = true
        #expect(c == expected)
    }

    @Test func fileErrorsComeBeforeOptionErrors() {
        var o = ConfigOverrides()
        o.set("threads", "many")
        #expect {
            _ = try DaemonConfig.load(configPath: "f.conf", overrides: o, readFile: { _ in "\nmlock = maybe\n" })
        } throws: { ($0 as? ConfigError)?.location == "f.conf:2" }
        #expect {
            _ = try DaemonConfig.load(configPath: "f.conf", overrides: o, readFile: { _ in "mlock = no\n" })
        } throws: { ($0 as? ConfigError)?.description == "--threads: expected an integer in 0...1024, got 'many'" }
    }

    /// The reload diff and the live application come from the table, setting by setting.
    @Test func reloadDiffFollowsTheTable() {
        let base = DaemonConfig()
        let other = everythingChanged()
        for s in DaemonSettings.all {
            #expect(s.differs(base, other), "everythingChanged() does not change \(s.key)")
            var new = base
            s.copy(other, &new)
            let restart = DaemonSettings.restartNeeded(old: base, new: new)
            #expect(restart == (s.reload == .restart ? [s.key] : []), "\(s.key)")
            let applied = DaemonSettings.applyingLive(new, to: base)
            #expect((applied != base) == (s.reload == .live), "\(s.key)")
        }
        #expect(DaemonSettings.restartNeeded(old: base, new: other)
            == DaemonSettings.all.filter { $0.reload == .restart }.map(\.key))
    }

    /// One set of defaults: DaemonConfig's fields, the engine's options and the KV pool's block size
    /// are the table's.
    @Test func defaultsAgreeEverywhere() throws {
        let c = DaemonConfig()
        for s in DaemonSettings.all where !s.repeatable {
            // Start where every setting differs: assigning the documented default must bring it back.
            var fromText = everythingChanged()
            try s.assign([s.defaultText!], &fromText)
            #expect(!s.differs(c, fromText), "\(s.key): DaemonConfig() is not the table's default")
        }
        let library = EngineOptions()
        let daemon = c.engineOptions(availableProcessors: library.threads)
        #expect(library.threads == daemon.threads)
        #expect(library.kvCacheBytes == daemon.kvCacheBytes)
        #expect(library.kvBlockTokens == daemon.kvBlockTokens)
        #expect(library.maxBatchTokens == daemon.maxBatchTokens)
        #expect(library.maxSessions == daemon.maxSessions)
        #expect(library.sessionIdleTimeout == daemon.sessionIdleTimeout)
        #expect(library.maxPendingJobs == daemon.maxPendingJobs)
        #expect(library.maxRequestRows == daemon.maxRequestRows)
        #expect(library.maxSessionsPerUser == daemon.maxSessionsPerUser)
        #expect(library.maxPendingPerUser == daemon.maxPendingPerUser)
        #expect(library.maxInflightTokensPerUser == daemon.maxInflightTokensPerUser)
        #expect(library.maxSessionTokensPerUser == daemon.maxSessionTokensPerUser)
        #expect(KVBlockPool.defaultBlockTokens == DaemonSettings.kvBlockTokens.defaultValue)
        let config = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2")).config
        #expect(KVBlockPool(config: config).blockTokens == c.kvBlockTokens)
        #expect(c.maxLineBytes == ProtocolVersion.defaultMaxLineBytes)
    }

    @Test func valueTypesRoundTripTheirText() throws {
        let number = SettingType<Double>.number(0...10)
        #expect(number.format(600) == "600")
        #expect(number.format(0.5) == "0.5")
        #expect(number.accepted == "0...10")
        #expect(try number.parse("2.5") == 2.5)
        #expect(throws: SettingValueError("expected a number in 0.0...10.0")) { try number.parse("inf") }
        let flag = SettingType<Bool>.boolean
        #expect(try flag.parse("ON") && !(try flag.parse("0")))
        #expect(flag.format(true) == "yes")
        let level = SettingType<Logger.Level>.choice(Logger.Level.self)
        #expect(try level.parse("Warning") == .warning)
        #expect(throws: SettingValueError("expected trace, debug, info, notice, warning, error or critical")) {
            try level.parse("loud")
        }
        // The shape a per-model weight format setting takes: a choice whose absence means the checkpoint's own.
        let weights = SettingType<WeightType?>.optional(.choice(WeightType.self), absent: "checkpoint")
        #expect(try weights.parse("checkpoint") == nil)
        #expect(try weights.parse("BFloat16") == .bfloat16)
        #expect(weights.format(nil) == "checkpoint")
        #expect(weights.format(.nf4) == "nf4")
        #expect(throws: SettingValueError("expected float32, bfloat16, float16, int8, nf4, q4 or fp4 or checkpoint")) {
            try weights.parse("fp8")
        }
    }
}
