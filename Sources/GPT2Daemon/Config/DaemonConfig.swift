// DaemonConfig — everything gpt2d is told at start-up: the config file (`key = value`, see
// systemd/gpt2d.conf.example and ConfigFile.swift) overlaid with command-line options.
//
// Precedence: built-in defaults (DaemonSettings) < config file < command line; ConfigLayer merges them.
// A SIGHUP re-reads the file and applies the same command-line overrides again (so `--log-level` on
// the command line keeps winning after a reload).

import Foundation
import GPT2Bounds
import GPT2Core
import GPT2Wire
import Logging

/// A model to serve: the name clients use and the directory holding its checkpoint and tokenizer.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var directory: String
    /// The type this model's weights are served in; nil: the `weight_type` setting.
    public var weightType: WeightType?
    /// keep_alive: seconds without a request after which the model is unloaded (and loaded again at
    /// its next request); nil: served until unloaded.
    public var keepAliveSeconds: Double?
    public init(name: String, directory: String, weightType: WeightType? = nil, keepAliveSeconds: Double? = nil) {
        self.name = name
        self.directory = directory
        self.weightType = weightType
        self.keepAliveSeconds = keepAliveSeconds
    }

    /// Parses `NAME[:TYPE][@SECONDS]=DIR` (name: no whitespace, no `=`, `:` or `@`; TYPE a WeightType
    /// name or "checkpoint"; SECONDS the keep_alive, a number > 0; name and directory non-empty).
    public static func parse(_ text: String) -> ModelSpec? {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        var name = String(text[..<eq]).trimmingWhitespace()
        let dir = String(text[text.index(after: eq)...]).trimmingWhitespace()
        var keepAlive: Double? = nil
        if let at = name.firstIndex(of: "@") {
            guard let s = Double(name[name.index(after: at)...]), s.isFinite, s > 0 else { return nil }
            keepAlive = s
            name = String(name[..<at])
        }
        var type: WeightType? = nil
        if let colon = name.firstIndex(of: ":") {
            let t = String(name[name.index(after: colon)...]).lowercased()
            if t != "checkpoint" {
                guard let parsed = WeightType(rawValue: t) else { return nil }
                type = parsed
            }
            name = String(name[..<colon])
        }
        guard !name.isEmpty, !dir.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
        return ModelSpec(name: name, directory: dir, weightType: type, keepAliveSeconds: keepAlive)
    }

    /// True for a name `parse` accepts (non-empty; no whitespace, `=`, `:` or `@`): also `models.load`'s rule.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains { $0 == "=" || $0 == ":" || $0 == "@" || $0.isWhitespace }
    }

    /// The `NAME[:TYPE][@SECONDS]=DIR` text `parse` reads.
    public var text: String {
        let keepAlive = keepAliveSeconds.map { s in s == s.rounded() && s < 1e15 ? "@\(Int(s))" : "@\(s)" } ?? ""
        return "\(name)\(weightType.map { ":\($0)" } ?? "")\(keepAlive)=\(directory)"
    }
}

/// The daemon's settings. Field names mirror the config keys (in parentheses); each field's initial
/// value, range, help and reload behaviour are its row of `DaemonSettings`.
public struct DaemonConfig: Sendable, Equatable {
    /// The config file read when `--config` is not given; a missing default file is fine.
    public static let defaultConfigPath = "/etc/gpt2d/gpt2d.conf"
    public static var defaultSocketPath: String { DaemonSettings.socket.defaultValue }

    /// (`socket`) Path to bind when not socket-activated.
    public var socketPath: String = DaemonSettings.socket.defaultValue
    /// (`http_socket`) Where the HTTP listener listens (`HTTPSocketSetting.path(socket:)`).
    public var httpSocket: HTTPSocketSetting = DaemonSettings.httpSocket.defaultValue
    /// (`http_tcp`) The HTTP listener's loopback TCP address; nil: none.
    public var httpTCP: LoopbackAddress? = DaemonSettings.httpTCP.defaultValue
    /// (`http_tokens_file`) The bearer tokens of the TCP listener (BearerTokens.swift); nil: none.
    public var httpTokensFile: String? = DaemonSettings.httpTokensFile.defaultValue
    /// (`model`, repeatable) Models in the order given.
    public var models: [ModelSpec] = DaemonSettings.models.defaultValue
    /// (`threads`) Compute threads; 0 = every CPU available to the process.
    public var threads: Int = DaemonSettings.threads.defaultValue
    /// (`kv_cache_mib`) KV-cache budget for all models together, MiB; 0 = unlimited.
    public var kvCacheMiB: Int = DaemonSettings.kvCacheMiB.defaultValue
    /// (`kv_block_tokens`) Positions per KV block.
    public var kvBlockTokens: Int = DaemonSettings.kvBlockTokens.defaultValue
    /// (`max_batch_tokens`) Most new tokens in one forward pass.
    public var maxBatchTokens: Int = DaemonSettings.maxBatchTokens.defaultValue
    /// (`max_request_rows`) Most forward rows one task request may need.
    public var maxRequestRows: Int = DaemonSettings.maxRequestRows.defaultValue
    /// (`session_idle_timeout_s`) Idle sessions are closed after this many seconds.
    public var sessionIdleTimeoutSeconds: Double = DaemonSettings.sessionIdleTimeout.defaultValue
    /// (`max_sessions`) Most open sessions, all users together.
    public var maxSessions: Int = DaemonSettings.maxSessions.defaultValue
    /// (`max_pending`) Most requests queued or running before new ones get `overloaded`.
    public var maxPending: Int = DaemonSettings.maxPending.defaultValue
    /// (`max_sessions_per_user`) Most open sessions of one user.
    public var maxSessionsPerUser: Int = DaemonSettings.maxSessionsPerUser.defaultValue
    /// (`max_session_tokens_per_user`) Most tokens in the histories of one user's open sessions.
    public var maxSessionTokensPerUser: Int = DaemonSettings.maxSessionTokensPerUser.defaultValue
    /// (`max_pending_per_user`) Most queued or running requests of one user.
    public var maxPendingPerUser: Int = DaemonSettings.maxPendingPerUser.defaultValue
    /// (`max_inflight_tokens_per_user`) Most in-flight tokens of one user's requests.
    public var maxInflightTokensPerUser: Int = DaemonSettings.maxInflightTokensPerUser.defaultValue
    /// (`max_line_bytes`) Longest request line.
    public var maxLineBytes: Int = DaemonSettings.maxLineBytes.defaultValue
    /// (`connection_idle_timeout_s`) Idle connections are closed after this many seconds; 0 = never.
    public var connectionIdleTimeoutSeconds: Double = DaemonSettings.connectionIdleTimeout.defaultValue
    /// (`max_connection_reply_mib`) A connection's budget for unanswered requests and unsent reply, MiB.
    public var maxConnectionReplyMiB: Int = DaemonSettings.maxConnectionReplyMiB.defaultValue
    /// (`max_reply_mib`) The same over all connections, MiB.
    public var maxReplyMiB: Int = DaemonSettings.maxReplyMiB.defaultValue
    /// (`admin_group`) The group whose members (with root) see the totals in `stats` and `metrics`; nil: root only.
    public var adminGroup: String? = DaemonSettings.adminGroup.defaultValue
    /// (`admin_tokens`) Bearer-token principals that see the totals like `admin_group`'s members.
    public var adminTokens: [String] = DaemonSettings.adminTokens.defaultValue
    /// (`log_level`) trace … critical.
    public var logLevel: Logger.Level = DaemonSettings.logLevel.defaultValue
    /// (`mlock`) Lock model weights in memory (needs LimitMEMLOCK=).
    public var mlock: Bool = DaemonSettings.mlock.defaultValue
    /// (`weight_type`) The type every model's weights are served in unless its `model` entry names one;
    /// nil: each checkpoint's own.
    public var weightType: WeightType? = DaemonSettings.weightType.defaultValue
    /// (`matmul_precision`) How bfloat16 weight matrices' products treat the activations.
    public var matmulPrecision: MatmulPrecision = DaemonSettings.matmulPrecision.defaultValue
    /// (`cache_dir`) Where quantized weights are cached on disk (`cacheDirectory(environment:)`).
    public var cacheDir: CacheDirectorySetting = DaemonSettings.cacheDir.defaultValue
    /// (`state_dir`) Where sessions are stored (`stateDirectory(environment:)`); none: nowhere.
    public var stateDir: StateDirectorySetting = DaemonSettings.stateDir.defaultValue
    /// (`kv_snapshot_mib`) Most MiB of sessions' KV caches saved at shutdown into cache_dir (0: none).
    public var kvSnapshotMiB: Int = DaemonSettings.kvSnapshotMiB.defaultValue
    /// (`kv_dtype`) The KV cache's element type.
    public var kvDType: KVDType = DaemonSettings.kvDType.defaultValue
    /// (`drain_timeout_s`) On SIGTERM, how long in-flight requests may run before they are cancelled.
    public var drainTimeoutSeconds: Double = DaemonSettings.drainTimeout.defaultValue
    /// (`metrics_textfile`) Where the metrics are written for node_exporter's textfile collector; nil: nowhere.
    public var metricsTextfile: String? = DaemonSettings.metricsTextfile.defaultValue
    /// (`metrics_textfile_interval_s`) Seconds between two writes of `metricsTextfile`.
    public var metricsTextfileIntervalSeconds: Double = DaemonSettings.metricsTextfileInterval.defaultValue

    public init() {}

    /// The engine tunables these settings imply. `threads == 0` becomes `availableProcessors`.
    public func engineOptions(availableProcessors: Int) -> EngineOptions {
        var o = EngineOptions()
        o.threads = threads == 0 ? max(1, availableProcessors) : threads
        o.kvCacheBytes = kvCacheMiB == 0 ? nil : kvCacheMiB << 20
        o.kvBlockTokens = kvBlockTokens
        o.maxBatchTokens = maxBatchTokens
        o.maxRequestRows = maxRequestRows
        o.maxSessions = maxSessions
        o.sessionIdleTimeout = sessionIdleTimeoutSeconds
        o.maxPendingJobs = maxPending
        o.maxSessionsPerUser = maxSessionsPerUser
        o.maxSessionTokensPerUser = maxSessionTokensPerUser
        o.maxPendingPerUser = maxPendingPerUser
        o.maxInflightTokensPerUser = maxInflightTokensPerUser
        return o
    }

    /// Weight loading options (the cache folder resolved against this process's environment).
    public var loadOptions: LoadOptions {
        LoadOptions(preload: true, lockInMemory: mlock,
                    cacheDirectory: cacheDir.directory(environment: ProcessInfo.processInfo.environment),
                    matmulPrecision: matmulPrecision)
    }

    /// How to load `spec`: its own weight type, else the `weight_type` setting (nil: the checkpoint's).
    public func loadOptions(for spec: ModelSpec) -> LoadOptions {
        var o = loadOptions
        o.weightType = spec.weightType ?? weightType
        return o
    }
}

/// Settings given on the command line, as `key`/`value` pairs of the config file's keys
/// (`--kv-cache-mib 64` is `("kv_cache_mib", "64")`). They are checked by the same table as the file and
/// take precedence over it: the last value of a single setting wins, and `model` entries, when any are
/// given, replace the file's models.
public struct ConfigOverrides: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
        /// The command-line option for this key (`kv_cache_mib` → `--kv-cache-mib`).
        public var option: String { Setting.option(forKey: key) }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    public mutating func set(_ key: String, _ value: String?) {
        if let value { entries.append(Entry(key, value)) }
    }

    /// The entries as a checked layer; a bad entry throws, naming its option.
    func layer() throws(ConfigError) -> ConfigLayer {
        var layer = ConfigLayer(name: "command line")
        for e in entries {
            guard let setting = DaemonSettings.setting(forKey: e.key) else {
                throw ConfigError(e.option, "unknown setting '\(e.key)'")
            }
            let value = e.value.trimmingWhitespace()
            do {
                try setting.validate(value)
            } catch {
                throw ConfigError(e.option, "\(error.message), got '\(e.value)'")
            }
            layer.add(setting, value)
        }
        return layer
    }
}

/// A configuration problem: where (file:line, or the option) and what.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `path:line` for a file entry, `--option` for the command line, or a path.
    public var location: String
    public var message: String
    /// Both parts may quote user input (a line, a value, an option): each is clipped (UserText), so
    /// the error stays a few hundred bytes whatever the input.
    public init(_ location: String, _ message: String) {
        self.location = UserText.clip(location, limit: 256)
        self.message = UserText.clip(message, limit: 1024)
    }
    public var description: String { "\(location): \(message)" }
}

extension DaemonConfig {
    /// Reads the config file (when there is one) and applies the overrides.
    ///
    /// - Parameter configPath: an explicit `--config` file (must exist), or nil for the default
    ///   `/etc/gpt2d/gpt2d.conf` (skipped when absent).
    /// - Parameter readFile: returns a file's text, nil when it does not exist (injectable for tests).
    public static func load(
        configPath: String?,
        overrides: ConfigOverrides,
        defaultPath: String = DaemonConfig.defaultConfigPath,
        readFile: (String) throws -> String? = ConfigFile.readText
    ) throws(ConfigError) -> DaemonConfig {
        let path = configPath ?? defaultPath
        let text: String?
        do { text = try readFile(path) } catch { throw ConfigError(path, "cannot read: \(error)") }
        var layers: [ConfigLayer] = []
        if let text {
            layers.append(try ConfigFile.layer(text, path: path))
        } else if configPath != nil {
            throw ConfigError(path, "config file not found")
        }
        // The file's errors come first (as a reader of the file would meet them), then the options'.
        layers.insert(try overrides.layer(), at: 0)
        let config = try ConfigLayer.resolve(layers)
        try config.validate()
        return config
    }

    /// Checks ranges that the parser cannot (after overrides). Models may be empty here; the daemon
    /// refuses to start without one.
    public func validate() throws(ConfigError) {
        var seen = Set<String>()
        for m in models where !seen.insert(m.name).inserted {
            throw ConfigError("model", "model name '\(m.name)' given twice")
        }
        if socketPath.isEmpty { throw ConfigError("socket", "empty socket path") }
        if socketPath.utf8.count > 107 { throw ConfigError("socket", "socket path longer than 107 bytes") }
        if let http = httpSocket.path(socket: socketPath) {
            if http.utf8.count > 107 { throw ConfigError("http_socket", "HTTP socket path longer than 107 bytes") }
            if http == socketPath { throw ConfigError("http_socket", "the HTTP socket cannot be the JSON-lines socket") }
        }
        if httpTCP != nil && httpTokensFile == nil {
            throw ConfigError("http_tcp", "needs http_tokens_file: a TCP client has no Unix identity, so every request must present a bearer token")
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
