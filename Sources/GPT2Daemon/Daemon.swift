// Daemon — gpt2d's lifecycle: load models, start the engine, listen, run the services, reload, stop.
//
//   start-up   every model is loaded (one shared KVMemoryBudget; EXTEND_TIMEOUT_USEC=30 s now and every 5 s
//              while loading) → with state_dir, the session database is opened and its sessions restored
//              (Persistence/SessionState), and their saved KV caches loaded → engine.start() → bind or adopt the socket → the ServiceGroup of
//              Lifecycle/DaemonServices.swift starts (watchdog: WATCHDOG=1 at WATCHDOG_USEC/2 while
//              engine.isHealthy; STATUS= every 5 s) → READY=1 + STATUS=.
//   SIGHUP     RELOADING=1 + MONOTONIC_USEC= → re-read the config file (same command-line overrides) →
//              apply the settings DaemonSettings marks `live` (log_level, max_line_bytes for new
//              connections, drain_timeout_s, the model list: added models load, removed ones drain and
//              unload, changed ones are replaced — Daemon+Models.swift). A changed `restart` setting
//              (socket, engine limits) is not applied; a warning names it. A broken file is logged and
//              the old settings stay.
//              A model unavailable since its weight file changed in place is mapped again if whole.
//              → READY=1.
//   SIGTERM/   the group's graceful shutdown, service by service: STOPPING=1 → `health` says shutting_down
//   SIGINT     and the listening socket closes (never shutdown(2) an activated one) → new engine work gets
//              `shutting_down`, in-flight requests run to their final line for up to drain_timeout_s, then
//              the rest is stopped → each connection closes once its answers are written (bounded) → the
//              watchdog stops → the session journal writes what is queued and closes the database → idle
//              sessions' KV caches are saved to cache_dir (Sessions/KVSnapshots.swift) → exit 0.
//
// Tests run a `Daemon` in-process (`init` + `start(listen:)` + `shutdown()`); the gpt2d executable
// calls `Daemon.main(configPath:overrides:)`, which adds config loading, signals and exit codes.

import Dispatch
import Foundation
import GPT2Core
import GPT2Systemd
import GPT2Wire
import Logging
import NIOCore
import ServiceLifecycle

public final class Daemon: @unchecked Sendable {
    /// Exit statuses of gpt2d (also listed in `gpt2d --help`).
    public enum ExitCode: Int32, Sendable {
        case ok = 0
        /// Bad command line or config file, or no model configured.
        case configError = 1
        /// A model failed to load (missing files, bad weights, tokenizer, mlock).
        case modelLoadFailed = 2
        /// The socket could not be bound or adopted.
        case listenFailed = 3
    }

    public let engine: Engine
    public let notifier: any ServiceNotifier
    let logger: Logger
    public let server: ServerState
    /// The HTTP listener's bound TCP port when `http_tcp` is set (tests bind port 0); nil otherwise.
    public private(set) var httpTCPPort: Int?
    /// Serving or draining, and connection numbers: one state every listener reads (ServingState.swift).
    public let serving: ServingState
    /// The daemon's metrics registry (Metrics/DaemonMetrics.swift), also `server.metrics`.
    public let metrics: DaemonMetrics
    private let settings: Locked<DaemonConfig>
    /// Sessions' KV caches saved at shutdown and restored at start; nil without state_dir, cache_dir or kv_snapshot_mib.
    let kvSnapshots: KVSnapshots?
    /// The service group once `start` ran it, and the task that runs it to its end.
    private let running = Locked<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    /// The settings in effect (engine limits as loaded; the model list as served; live keys as last reloaded).
    public var config: DaemonConfig { settings.current }

    /// Loads every model of `config` and builds the engine (not started yet).
    ///
    /// - Parameter credentialsFilter: maps a connection's real peer credentials to the ones used
    ///   (tests pretend to be another user); identity by default.
    /// - Parameter metrics: the registry to record into; by default a new one of this daemon's own.
    public init(
        config: DaemonConfig,
        notifier: any ServiceNotifier = NoopNotifier(),
        logger: Logger = Logger(label: "gpt2d"),
        credentialsFilter: @escaping @Sendable (PeerCredentials) -> PeerCredentials = { $0 },
        metrics: DaemonMetrics = DaemonMetrics()
    ) throws {
        let options = config.engineOptions(availableProcessors: ProcessInfo.processInfo.activeProcessorCount)
        var base = config.loadOptions
        base.weightType = config.weightType
        // How every model loads, now and later (models.load, SIGHUP): one KV budget for all.
        let loading = ModelLoading(budget: KVMemoryBudget(limitBytes: options.kvCacheBytes), blockTokens: options.kvBlockTokens,
                                   kvDType: config.kvDType, options: base)
        var models: [ServedModel] = []
        let extender = Self.startTimeoutExtender(notifier)
        defer { extender?.cancel() }
        var cacheWarned = false
        for spec in config.models {
            let started = DispatchTime.now().uptimeNanoseconds
            notifier.status("loading model \(spec.name) from \(spec.directory)")
            do {
                let m = try loading.load(name: spec.name, directory: spec.directory, weightType: spec.weightType)
                m.keepAliveSeconds = spec.keepAliveSeconds
                models.append(m)
            } catch {
                throw ModelLoadError(model: spec, underlying: error)
            }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            metrics.modelLoaded(spec.name, seconds: ms / 1000)
            var metadata: Logger.Metadata = ["model": "\(spec.name)", "directory": "\(spec.directory)", "ms": "\(Int(ms))"]
            if let cache = models.last?.model.weights.quantizedCache {
                metadata["cache"] = "\(cache.outcome.rawValue)"
                metadata["cache_file"] = "\(cache.path)"
                if let rejected = cache.rejected { metadata["cache_rejected"] = "\(rejected)" }
                if let error = cache.writeError, !cacheWarned {
                    cacheWarned = true
                    logger.warning("quantized-weight cache not writable: serving without caching",
                                   metadata: ["cache_file": "\(cache.path)", "error": "\(error)"])
                }
            }
            logger.info("model loaded", metadata: metadata)
        }
        self.metrics = metrics
        // state_dir: sessions from the last run are loaded before anything is served (SessionState).
        let stateDir = config.stateDir.stateDirectory(environment: ProcessInfo.processInfo.environment)
        let state = stateDir.map { SessionState.open(directory: $0, logger: logger) }
        self.engine = Engine(models: models, options: options, metricsFactory: metrics.factory, journal: state?.journal,
                             loading: loading)
        if let state, let stateDir { SessionState.restore(state.records, into: engine, directory: stateDir, logger: logger) }
        // Saved KV caches of those sessions (cache_dir, kv_snapshot_mib; Sessions/KVSnapshots.swift).
        let snapshots = state == nil ? nil : KVSnapshots(cacheDirectory: config.loadOptions.cacheDirectory,
                                                         limitBytes: config.kvSnapshotMiB << 20, logger: logger)
        snapshots?.restore(into: engine)
        kvSnapshots = snapshots
        self.notifier = notifier
        self.logger = logger
        let serving = ServingState()
        self.serving = serving
        self.server = ServerState(engine: engine, maxLineBytes: config.maxLineBytes, policy: ConnectionPolicy(config), logger: logger,
                                  credentialsFilter: credentialsFilter, serving: serving, metrics: metrics)
        self.settings = Locked(config)
    }

    /// Sends EXTEND_TIMEOUT_USEC=30 s now and every 5 s until cancelled (model loading can be slow).
    private static func startTimeoutExtender(_ notifier: any ServiceNotifier) -> DispatchSourceTimer? {
        guard notifier.isActive else { return nil }
        notifier.extendTimeout(usec: 30_000_000)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "gpt2d.extend-timeout"))
        timer.schedule(deadline: .now() + .seconds(5), repeating: .seconds(5))
        timer.setEventHandler { notifier.extendTimeout(usec: 30_000_000) }
        timer.resume()
        return timer
    }

    // MARK: start

    /// Starts the engine, listens, runs the services, and reports READY=1. Returns once connections are
    /// being accepted.
    ///
    /// - Parameter http: where the OpenAI-compatible HTTP listener listens (Listeners/HTTP/); nil: none.
    public func start(listen target: ListenTarget, http: ListenTarget? = nil) async throws {
        try await start(listen: target, http: http, signals: nil)
    }

    /// `start(listen:http:)` with the process's signal handling (gpt2d) as one more service, and the
    /// HTTP listener's request timeout (tests shorten it).
    func start(listen target: ListenTarget, http: ListenTarget? = nil, signals: SignalService?,
               httpRequestTimeout: TimeAmount = .seconds(30), tcp: HTTPTCPSettings? = nil) async throws {
        engine.start()
        // Every transport the daemon answers on: the JSON-lines Unix socket, and HTTP when configured.
        var listeners: [any Listener] = []
        do {
            listeners.append(try await UnixServer.bind(target, state: server))
            if let http {
                let limits = HTTPLimits(maxBodyBytes: { [server] in server.maxLineBytes }, requestTimeout: httpRequestTimeout)
                listeners.append(try await HTTPListener.bind(http, server: server, limits: limits))
            }
            if let tcp {
                let limits = HTTPLimits(maxBodyBytes: { [server] in server.maxLineBytes }, requestTimeout: httpRequestTimeout)
                let listener = try await HTTPListener.bind(.tcp(tcp.address), server: server, limits: limits, tokens: tcp.tokens)
                httpTCPPort = listener.tcpPort
                listeners.append(listener)
            }
        } catch {
            for listener in listeners {
                await listener.stopAccepting()
                await listener.shutdown()
            }
            await engine.shutdown(drain: false)
            throw error
        }
        let watchdog = Watchdog(notifier: notifier, healthCheck: { [engine] in engine.isHealthy })
        let group = DaemonServices.group(
            engine: engine, listeners: listeners, watchdog: watchdog, notifier: notifier,
            statusLine: { [engine, server] in Daemon.statusLine(engine: engine, server: server) },
            drainTimeoutSeconds: { [settings] in settings.current.drainTimeoutSeconds },
            signals: signals, logger: logger, textfile: textfileService())
        let task = Task { [logger, engine, kvSnapshots] in
            do {
                try await group.run()
            } catch {
                logger.error("service group ended with an error", metadata: ["error": "\(error)"])
            }
            engine.sessions.journal?.close()  // every reply is out: write what is queued, close the file
            if let kvSnapshots {
                await engine.shutdown(drain: false)  // returns at once: the compute thread has stopped, no block changes
                kvSnapshots.save(from: engine)
            }
            logger.info("stopped")
        }
        running.withLock { $0 = (group, task) }
        logger.info("listening", metadata: ["socket": "\(describe(target))", "http": "\(http.map(describe) ?? "none")",
                                            "models": "\(engine.models.map(\.name).joined(separator: ","))",
                                            "compute": "\(ComputeThreads.description)"])
        notifier.ready()
        notifier.status(statusLine())
        if let watchdog {
            logger.info("watchdog enabled", metadata: ["interval_us": "\(watchdog.intervalMicroseconds)"])
        }
    }

    /// `metrics_textfile`'s writer, when the setting names a file.
    private func textfileService() -> MetricsTextfileService? {
        let c = config
        guard let path = c.metricsTextfile else { return nil }
        return MetricsTextfileService(
            textfile: MetricsTextfile(path: path), interval: .milliseconds(Int64(c.metricsTextfileIntervalSeconds * 1000)),
            exposition: { [metrics, server] in metrics.exposition(server: server) }, logger: logger)
    }

    private func describe(_ t: ListenTarget) -> String {
        switch t {
        case .path(let p): return p
        case .activated(let fd): return "fd \(fd) (socket activation)"
        case .tcp(let address): return "\(address) (TCP)"
        }
    }

    /// The STATUS= text: models, sessions, queue, connections.
    public func statusLine() -> String { Self.statusLine(engine: engine, server: server) }

    static func statusLine(engine: Engine, server: ServerState) -> String {
        let s = engine.stats()
        let names = engine.models.map(\.name).joined(separator: ", ")
        return "serving \(names); sessions \(s.sessions); active \(s.requestsActive), queued \(s.queueDepth); "
            + "connections \(server.openConnections)"
    }

    // MARK: reload

    /// Applies a re-read configuration (SIGHUP): RELOADING=1 … READY=1. Returns the keys that changed
    /// but need a restart (socket, engine limits); they are logged and not applied. Model-list changes
    /// are applied (models loaded before this returns; removed ones drain in the background).
    @discardableResult
    public func reload(_ new: DaemonConfig) -> [String] {
        notifier.reloading()
        defer {
            notifier.ready()
            notifier.status(statusLine())
        }
        let (needsRestart, applied, served) = settings.withLock { current -> ([String], DaemonConfig, [ModelSpec]) in
            let needsRestart = DaemonSettings.restartNeeded(old: current, new: new)
            let served = current.models
            current = DaemonSettings.applyingLive(new, to: current)
            return (needsRestart, current, served)
        }
        applyLiveSettings(applied)
        let serving = applyModelList(from: served, to: new.models, drainTimeout: applied.drainTimeoutSeconds)
        settings.withLock { $0.models = serving }
        // A model made unavailable by a weight file changed in place serves again if the file is whole.
        engine.restoreUnavailableModels()
        if needsRestart.isEmpty {
            logger.info("configuration reloaded")
        } else {
            logger.warning("configuration reloaded; changed settings that need a restart were not applied",
                           metadata: ["keys": "\(needsRestart.joined(separator: ","))"])
        }
        return needsRestart
    }

    /// Pushes the `live` settings to where they act (the reload applies them; drain_timeout_s is read
    /// from `config` when the drain starts).
    private func applyLiveSettings(_ c: DaemonConfig) {
        DaemonLogging.currentLevel = c.logLevel
        server.maxLineBytes = c.maxLineBytes
        server.policy = ConnectionPolicy(c)
    }

    // MARK: shutdown

    /// Graceful stop (see the file header): the service group's graceful shutdown. Idempotent; returns
    /// when everything is closed.
    public func shutdown() async {
        guard let (group, task) = running.current else { return }
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// Returns when the services have stopped (after a shutdown signal or `shutdown()`).
    func waitUntilStopped() async {
        await running.current?.task.value
    }
}

/// A model that failed to load (→ exit status 2).
public struct ModelLoadError: Error, CustomStringConvertible {
    public var model: ModelSpec
    public var underlying: any Error
    public var description: String { "cannot load model '\(model.name)' from \(model.directory): \(underlying)" }
}
