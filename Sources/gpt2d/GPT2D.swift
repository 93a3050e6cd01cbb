// gpt2d — the GPT-2 inference daemon's command line. Everything else lives in GPT2Daemon
// (Daemon.main: config, socket activation, models, signals).

import ArgumentParser
import Foundation
import GPT2Daemon
import GPT2Wire

@main
struct GPT2D: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "gpt2d",
        abstract: "Serve GPT-2 models to local programs over a Unix socket (JSON lines, protocol v\(ProtocolVersion.current)).",
        discussion: """
        Settings come from the config file (default \(DaemonConfig.defaultConfigPath), optional; see \
        systemd/gpt2d.conf.example); each option below overrides the file's key of the same name. \
        Under systemd the listening socket is taken from socket activation (gpt2d.socket) and --socket \
        is ignored. SIGHUP re-reads the config file (log_level, max_line_bytes, drain_timeout_s apply live; models and \
        engine limits need a restart). SIGTERM/SIGINT drain in-flight requests and exit 0.

        EXIT STATUS:
          0  stopped cleanly (SIGTERM/SIGINT), or --help/--version
          1  usage or configuration error (bad option, bad config file, no model)
          2  a model failed to load
          3  the socket could not be bound or adopted
        """,
        version: "gpt2d \(GPT2D.version) (protocol v\(ProtocolVersion.current))"
    )

    @Option(name: .long, help: ArgumentHelp("Unix socket to bind when not socket-activated.", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("A model to serve, NAME=DIR (repeatable; replaces the file's models).", valueName: "name=dir"))
    var model: [String] = []

    @Option(name: .long, help: ArgumentHelp("Config file (must exist when given).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: "Compute threads (0 = all CPUs).")
    var threads: String?

    @Option(name: .customLong("kv-cache-mib"), help: "KV-cache budget for all models, MiB (0 = unlimited).")
    var kvCacheMiB: String?

    @Option(name: .customLong("kv-block-tokens"), help: "Positions per KV-cache block.")
    var kvBlockTokens: String?

    @Option(name: .customLong("max-batch-tokens"), help: "Most new tokens in one forward pass.")
    var maxBatchTokens: String?

    @Option(name: .customLong("session-idle-timeout-s"), help: "Close sessions idle this many seconds.")
    var sessionIdleTimeout: String?

    @Option(name: .customLong("max-sessions"), help: "Most open sessions (all users).")
    var maxSessions: String?

    @Option(name: .customLong("max-pending"), help: "Most queued or running requests before `overloaded`.")
    var maxPending: String?

    @Option(name: .customLong("max-line-bytes"), help: "Longest request line in bytes.")
    var maxLineBytes: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(name: .long, help: "Lock model weights in memory: yes or no.")
    var mlock: String?

    @Option(name: .customLong("drain-timeout-s"), help: "On SIGTERM, seconds in-flight requests may still run.")
    var drainTimeout: String?

    /// ArgumentParser exits 64 on a usage error; gpt2d documents 1 for every usage/config error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }

    func run() async throws {
        var o = ConfigOverrides()
        o.set("socket", socket)
        for m in model { o.set("model", m) }
        o.set("threads", threads)
        o.set("kv_cache_mib", kvCacheMiB)
        o.set("kv_block_tokens", kvBlockTokens)
        o.set("max_batch_tokens", maxBatchTokens)
        o.set("session_idle_timeout_s", sessionIdleTimeout)
        o.set("max_sessions", maxSessions)
        o.set("max_pending", maxPending)
        o.set("max_line_bytes", maxLineBytes)
        o.set("log_level", logLevel)
        o.set("mlock", mlock)
        o.set("drain_timeout_s", drainTimeout)
        let status = await Daemon.main(configPath: config, overrides: o)
        if status != 0 { throw ExitCode(status) }
    }
}
