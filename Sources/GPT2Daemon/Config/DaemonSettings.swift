// DaemonSettings — the table of gpt2d's settings: every setting is declared here once, with its key,
// value type and range, default, reload behaviour, `--help` placeholder and help line.
//
// What reads this table:
//   * ConfigFile: which keys a config file may contain and how each value is checked;
//   * DaemonCommandLine: the options `gpt2d` accepts (`kv_cache_mib` → `--kv-cache-mib`) and `--help`;
//   * DaemonConfig: the initial value of each field (`= DaemonSettings.x.defaultValue`);
//   * Daemon.reload: which changed settings need a restart;
//   * ConfigDocsTests: systemd/gpt2d.conf.example documents exactly these keys, with these defaults.
//
// Adding a setting: one `SettingSpec` (or `SettingList`) below, its row in `all`, and the
// `DaemonConfig` field it fills (initialised from the spec's default). Sizes are MiB, durations seconds.

import GPT2Core
import GPT2Wire
import Logging

public enum DaemonSettings {
    public static let socket = SettingSpec(
        "socket", \DaemonConfig.socketPath, .absolutePath, default: "/run/gpt2d/gpt2d.sock", reload: .restart,
        valueName: "path", help: "Unix socket to bind when not socket-activated.")

    public static let httpSocket = SettingSpec(
        "http_socket", \DaemonConfig.httpSocket, .autoNoneOrPath, default: .auto, reload: .restart,
        valueName: "path",
        help: "Unix socket of the OpenAI-compatible HTTP listener (auto = activated fd \"http\", else /run/gpt2d/http.sock or beside --socket; none = off).")

    public static let httpTCP = SettingSpec(
        "http_tcp", \DaemonConfig.httpTCP, .optional(.loopbackAddress, absent: "none"), default: nil, reload: .restart,
        valueName: "host:port",
        help: "Also serve HTTP on this loopback TCP address (127.0.0.1:PORT, [::1]:PORT, localhost:PORT); needs http_tokens_file.")

    public static let httpTokensFile = SettingSpec(
        "http_tokens_file", \DaemonConfig.httpTokensFile, .optional(.absolutePath, absent: "none"), default: nil, reload: .restart,
        valueName: "path",
        help: "Bearer tokens for http_tcp: lines 'PRINCIPAL TOKEN', mode 600/640; re-read when the file changes.")

    public static let models = SettingList(
        "model", \DaemonConfig.models, .modelSpec, reload: .live,
        valueName: "name[:type][@secs]=dir",
        help: "A model to serve (repeatable; replaces the file's models); :type overrides weight_type; @secs unloads it after that long unused (keep_alive).")

    public static let threads = SettingSpec(
        "threads", \DaemonConfig.threads, .integer(0...1024), default: 0, reload: .restart,
        valueName: "n", help: "Compute threads (0 = all CPUs).")

    public static let kvCacheMiB = SettingSpec(
        "kv_cache_mib", \DaemonConfig.kvCacheMiB, .integer(0...(1 << 24)), default: 1024, reload: .restart,
        valueName: "mib", help: "KV-cache budget for all models, MiB (0 = unlimited).")

    public static let kvBlockTokens = SettingSpec(
        "kv_block_tokens", \DaemonConfig.kvBlockTokens, .integer(1...4096), default: 32, reload: .restart,
        valueName: "n", help: "Positions per KV-cache block.")

    public static let maxBatchTokens = SettingSpec(
        "max_batch_tokens", \DaemonConfig.maxBatchTokens, .integer(1...(1 << 20)), default: 512, reload: .restart,
        valueName: "n", help: "Most new tokens in one forward pass.")

    public static let maxRequestRows = SettingSpec(
        "max_request_rows", \DaemonConfig.maxRequestRows, .integer(1...(1 << 24)), default: 16384, reload: .restart,
        valueName: "n", help: "Most forward rows (tokens over all windows and texts) one task request may need; more is too_large.")

    public static let sessionIdleTimeout = SettingSpec(
        "session_idle_timeout_s", \DaemonConfig.sessionIdleTimeoutSeconds, .number(0...(365 * 86400)), default: 600,
        reload: .restart, valueName: "seconds", help: "Close sessions idle this many seconds.")

    public static let maxSessions = SettingSpec(
        "max_sessions", \DaemonConfig.maxSessions, .integer(0...(1 << 20)), default: 64, reload: .restart,
        valueName: "n", help: "Most open sessions (all users).")

    public static let maxPending = SettingSpec(
        "max_pending", \DaemonConfig.maxPending, .integer(1...(1 << 20)), default: 1024, reload: .restart,
        valueName: "n", help: "Most queued or running requests before `overloaded`.")

    public static let maxSessionsPerUser = SettingSpec(
        "max_sessions_per_user", \DaemonConfig.maxSessionsPerUser, .integer(0...(1 << 20)), default: 16, reload: .restart,
        valueName: "n", help: "Most open sessions of one user (within max_sessions).")

    public static let maxSessionTokensPerUser = SettingSpec(
        "max_session_tokens_per_user", \DaemonConfig.maxSessionTokensPerUser, .integer(0...(1 << 40)), default: 1 << 20,
        reload: .restart, valueName: "n",
        help: "Most tokens in the histories of one user's open sessions; a request or fork that would pass it gets quota_exceeded.")

    public static let maxPendingPerUser = SettingSpec(
        "max_pending_per_user", \DaemonConfig.maxPendingPerUser, .integer(1...(1 << 20)), default: 256, reload: .restart,
        valueName: "n", help: "Most queued or running requests of one user (within max_pending).")

    public static let maxInflightTokensPerUser = SettingSpec(
        "max_inflight_tokens_per_user", \DaemonConfig.maxInflightTokensPerUser, .integer(1...(1 << 30)), default: 131072,
        reload: .restart, valueName: "n",
        help: "Most tokens (prompt + max_new_tokens, task rows) one user's queued and running requests may need.")

    public static let maxLineBytes = SettingSpec(
        "max_line_bytes", \DaemonConfig.maxLineBytes, .integer(64...(1 << 30)),
        default: ProtocolVersion.defaultMaxLineBytes, reload: .live,
        valueName: "bytes", help: "Longest request line in bytes (new connections).")

    public static let connectionIdleTimeout = SettingSpec(
        "connection_idle_timeout_s", \DaemonConfig.connectionIdleTimeoutSeconds, .number(0...(365 * 86400)), default: 300,
        reload: .live, valueName: "seconds",
        help: "Close a connection with nothing in flight that sends and reads nothing this long (0 = never; new connections).")

    public static let maxConnectionReplyMiB = SettingSpec(
        "max_connection_reply_mib", \DaemonConfig.maxConnectionReplyMiB, .integer(1...(1 << 20)), default: 16, reload: .live,
        valueName: "mib",
        help: "Stop reading a connection's requests while its unanswered requests and unsent reply exceed this many MiB (new connections).")

    public static let maxReplyMiB = SettingSpec(
        "max_reply_mib", \DaemonConfig.maxReplyMiB, .integer(1...(1 << 24)), default: 256, reload: .live,
        valueName: "mib", help: "The same bound summed over all connections, MiB.")

    public static let adminGroup = SettingSpec(
        "admin_group", \DaemonConfig.adminGroup, .optional(.groupName, absent: "none"), default: nil, reload: .live,
        valueName: "group", help: "Members of this group (and root) see the daemon's totals in `stats` and `metrics`; others see their own counts.")

    public static let adminTokens = SettingSpec(
        "admin_tokens", \DaemonConfig.adminTokens, .principalNames, default: [], reload: .live,
        valueName: "names", help: "Bearer-token principals (names in http_tokens_file, comma-separated) that see the totals in `stats` and `metrics` like admin_group's members.")

    public static let logLevel = SettingSpec(
        "log_level", \DaemonConfig.logLevel, .choice(Logger.Level.self), default: .info, reload: .live,
        valueName: "level", help: "Log level.")

    public static let mlock = SettingSpec(
        "mlock", \DaemonConfig.mlock, .boolean, default: false, reload: .restart,
        valueName: "yes|no", help: "Lock model weights in memory (needs LimitMEMLOCK=).")

    public static let weightType = SettingSpec(
        "weight_type", \DaemonConfig.weightType, .optional(.choice(WeightType.self), absent: "checkpoint"), default: nil,
        reload: .restart, valueName: "type",
        help: "Type models' weights are served in (converted or quantized at load) unless a model names its own.")

    public static let matmulPrecision = SettingSpec(
        "matmul_precision", \DaemonConfig.matmulPrecision, .choice(MatmulPrecision.self), default: .highest,
        reload: .restart, valueName: "precision",
        help: "Products with bfloat16 weights: highest (F32 activations, exact) or medium (activations rounded to bfloat16; AVX512_BF16 dot products where the CPU has them); with nf4 / fp4 weights: highest (codes to 2^-15) or medium (8-bit codes, faster batched decode).")

    public static let cacheDir = SettingSpec(
        "cache_dir", \DaemonConfig.cacheDir, .autoNoneOrPath, default: .auto, reload: .restart,
        valueName: "dir",
        help: "Folder of quantized-weight cache files (auto = systemd's $CACHE_DIRECTORY, none without it; none = off).")

    public static let stateDir = SettingSpec(
        "state_dir", \DaemonConfig.stateDir, .autoNoneOrPath, default: .auto, reload: .restart,
        valueName: "dir",
        help: "Folder of the session database; sessions outlive restarts (auto = systemd's $STATE_DIRECTORY, none without it; none = off).")

    public static let kvSnapshotMiB = SettingSpec(
        "kv_snapshot_mib", \DaemonConfig.kvSnapshotMiB, .integer(0...(1 << 24)), default: 1024, reload: .restart,
        valueName: "mib",
        help: "At shutdown, save sessions' KV caches (most recently used first, this many MiB in all) to cache_dir, so restored sessions skip their prefill (needs state_dir and cache_dir; 0 = off).")

    public static let kvDType = SettingSpec(
        "kv_dtype", \DaemonConfig.kvDType, .choice(KVDType.self), default: .float32, reload: .restart,
        valueName: "type", help: "KV-cache element type (float16/bfloat16 halve KV memory per token).")

    public static let drainTimeout = SettingSpec(
        "drain_timeout_s", \DaemonConfig.drainTimeoutSeconds, .number(0...3600), default: 10, reload: .live,
        valueName: "seconds", help: "On SIGTERM, seconds in-flight requests may still run.")

    public static let metricsTextfile = SettingSpec(
        "metrics_textfile", \DaemonConfig.metricsTextfile, .optional(.absolutePath, absent: "none"), default: nil,
        reload: .restart, valueName: "path",
        help: "Write the Prometheus metrics to this file (atomically) for node_exporter's textfile collector (none = off).")

    public static let metricsTextfileInterval = SettingSpec(
        "metrics_textfile_interval_s", \DaemonConfig.metricsTextfileIntervalSeconds, .number(1...3600), default: 15,
        reload: .restart, valueName: "seconds", help: "Seconds between writes of metrics_textfile (also written at start and at shutdown).")

    /// Every setting, in the order of `--help` and systemd/gpt2d.conf.example.
    public static let all: [Setting] = [
        socket.setting, httpSocket.setting, httpTCP.setting, httpTokensFile.setting, models.setting, threads.setting, kvCacheMiB.setting, kvBlockTokens.setting,
        maxBatchTokens.setting, maxRequestRows.setting, sessionIdleTimeout.setting, maxSessions.setting, maxPending.setting,
        maxSessionsPerUser.setting, maxPendingPerUser.setting, maxInflightTokensPerUser.setting, maxSessionTokensPerUser.setting,
        maxLineBytes.setting, connectionIdleTimeout.setting, maxConnectionReplyMiB.setting, maxReplyMiB.setting, adminGroup.setting, adminTokens.setting, logLevel.setting, mlock.setting, weightType.setting, matmulPrecision.setting, cacheDir.setting, stateDir.setting, kvSnapshotMiB.setting, kvDType.setting, drainTimeout.setting,
        metricsTextfile.setting, metricsTextfileInterval.setting,
    ]

    /// The row for `key`, if there is one.
    public static func setting(forKey key: String) -> Setting? { byKey[key] }

    private static let byKey: [String: Setting] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// Keys of the settings a SIGHUP applies at once.
    public static var liveKeys: [String] { all.filter { $0.reload == .live }.map(\.key) }

    // MARK: reload

    /// The keys whose value differs between `old` and `new` and that need a restart, in table order.
    public static func restartNeeded(old: DaemonConfig, new: DaemonConfig) -> [String] {
        all.filter { $0.reload == .restart && $0.differs(old, new) }.map(\.key)
    }

    /// `current` with every `live` setting taken from `new` (the others keep their current values).
    public static func applyingLive(_ new: DaemonConfig, to current: DaemonConfig) -> DaemonConfig {
        var result = current
        for setting in all where setting.reload == .live { setting.copy(new, &result) }
        return result
    }
}
