// Daemon — gpt2d's lifecycle: load models, start the engine, listen, tell systemd, reload, stop.
//
//   start-up   every model is loaded (one shared KVMemoryBudget; EXTEND_TIMEOUT_USEC=30 s now and every 5 s
//              while loading) → engine.start() → bind or adopt the socket → READY=1 + STATUS= → watchdog
//              pings (WATCHDOG=1 at WATCHDOG_USEC/2 while engine.isHealthy) and STATUS= every 5 s.
//   SIGHUP     RELOADING=1 + MONOTONIC_USEC= → re-read the config file (same command-line overrides) →
//              apply what can change live: log_level, max_line_bytes (for new connections),
//              drain_timeout_s. Models and
//              engine limits (threads, KV budget, sessions, queue) are NOT reloaded: they need a restart,
//              and a warning names the changed keys. A broken file is logged and the old settings stay.
//              → READY=1.
//   SIGTERM/   STOPPING=1 → stop accepting (close our listening fd; never shutdown(2) an activated one)
//   SIGINT     → `health` says shutting_down, new engine work gets `shutting_down` → in-flight requests
//              run to their final line for up to drain_timeout_s (engine.shutdown(drain: true)); after
//              that the rest is stopped (drain: false) and ends with `shutting_down` → each connection
//              closes once its answers are written (bounded) → exit 0.
//
// Tests run a `Daemon` in-process (`init` + `start(listen:)` + `shutdown()`); the gpt2d executable
// calls `Daemon.main(configPath:overrides:)`, which adds config loading, signals and exit codes.

import Dispatch
import Foundation
import GPT2Core
import GPT2Systemd
import GPT2Wire
import Logging

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
    private let settings: Locked<DaemonConfig>
    private var unixServer: UnixServer?
    private var runTask: Task<Void, Never>?
    private var watchdog: Watchdog?
    private var statusTimer: DispatchSourceTimer?
    private let shutdownOnce = Locked(false)

    /// The settings in effect (models and engine limits as loaded; live keys as last reloaded).
    public var config: DaemonConfig { settings.current }

    /// Loads every model of `config` and builds the engine (not started yet).
    ///
    /// - Parameter credentialsFilter: maps a connection's real peer credentials to the ones used
    ///   (tests pretend to be another user); identity by default.
    public init(
        config: DaemonConfig,
        notifier: any ServiceNotifier = NoopNotifier(),
        logger: Logger = Logger(label: "gpt2d"),
        credentialsFilter: @escaping @Sendable (PeerCredentials) -> PeerCredentials = { $0 }
    ) throws {
        let options = config.engineOptions(availableProcessors: ProcessInfo.processInfo.activeProcessorCount)
        let budget = KVMemoryBudget(limitBytes: options.kvCacheBytes)
        var models: [ServedModel] = []
        let extender = Self.startTimeoutExtender(notifier)
        defer { extender?.cancel() }
        for spec in config.models {
            let started = DispatchTime.now().uptimeNanoseconds
            notifier.status("loading model \(spec.name) from \(spec.directory)")
            do {
                models.append(try ServedModel.load(name: spec.name, directory: spec.directory, budget: budget,
                                                   blockTokens: options.kvBlockTokens, options: config.loadOptions))
            } catch {
                throw ModelLoadError(model: spec, underlying: error)
            }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            logger.info("model loaded", metadata: ["model": "\(spec.name)", "directory": "\(spec.directory)",
                                                   "ms": "\(Int(ms))"])
        }
        self.engine = Engine(models: models, options: options)
        self.notifier = notifier
        self.logger = logger
        self.server = ServerState(engine: engine, maxLineBytes: config.maxLineBytes, logger: logger,
                                  credentialsFilter: credentialsFilter)
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

    /// Starts the engine, listens, and reports READY=1. Returns once connections are being accepted.
    public func start(listen target: ListenTarget) async throws {
        engine.start()
        let server: UnixServer
        do {
            server = try await UnixServer.bind(target, state: self.server)
        } catch {
            await engine.shutdown(drain: false)
            throw error
        }
        unixServer = server
        runTask = Task { await server.run() }
        logger.info("listening", metadata: ["socket": "\(describe(target))",
                                            "models": "\(engine.modelInfos.map(\.name).joined(separator: ","))",
                                            "compute": "\(ComputeThreads.description)"])
        notifier.ready()
        notifier.status(statusLine())
        startStatusTimer()
        if let dog = Watchdog(notifier: notifier, healthCheck: { [engine] in engine.isHealthy }) {
            logger.info("watchdog enabled", metadata: ["interval_us": "\(dog.intervalMicroseconds)"])
            dog.start()
            watchdog = dog
        }
    }

    private func describe(_ t: ListenTarget) -> String {
        switch t {
        case .path(let p): return p
        case .activated(let fd): return "fd \(fd) (socket activation)"
        }
    }

    /// The STATUS= text: models, sessions, queue, connections.
    public func statusLine() -> String {
        let s = engine.stats()
        let names = engine.modelInfos.map(\.name).joined(separator: ", ")
        return "serving \(names); sessions \(s.sessions); active \(s.requestsActive), queued \(s.queueDepth); "
            + "connections \(server.openConnections)"
    }

    private func startStatusTimer() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "gpt2d.status"))
        timer.schedule(deadline: .now() + .seconds(5), repeating: .seconds(5))
        timer.setEventHandler { [weak self] in
            guard let self, !self.server.isDraining else { return }
            self.notifier.status(self.statusLine())
        }
        timer.resume()
        statusTimer = timer
    }

    // MARK: reload

    /// Applies a re-read configuration (SIGHUP): RELOADING=1 … READY=1. Returns the keys that changed
    /// but need a restart (models, engine limits); they are logged and not applied.
    @discardableResult
    public func reload(_ new: DaemonConfig) -> [String] {
        notifier.reloading()
        defer {
            notifier.ready()
            notifier.status(statusLine())
        }
        let old = settings.current
        DaemonLogging.currentLevel = new.logLevel
        server.maxLineBytes = new.maxLineBytes
        var needsRestart: [String] = []
        if new.models != old.models { needsRestart.append("model") }
        if new.socketPath != old.socketPath { needsRestart.append("socket") }
        if new.threads != old.threads { needsRestart.append("threads") }
        if new.kvCacheMiB != old.kvCacheMiB { needsRestart.append("kv_cache_mib") }
        if new.kvBlockTokens != old.kvBlockTokens { needsRestart.append("kv_block_tokens") }
        if new.maxBatchTokens != old.maxBatchTokens { needsRestart.append("max_batch_tokens") }
        if new.sessionIdleTimeoutSeconds != old.sessionIdleTimeoutSeconds { needsRestart.append("session_idle_timeout_s") }
        if new.maxSessions != old.maxSessions { needsRestart.append("max_sessions") }
        if new.maxPending != old.maxPending { needsRestart.append("max_pending") }
        if new.mlock != old.mlock { needsRestart.append("mlock") }
        settings.withLock { c in
            c.logLevel = new.logLevel
            c.maxLineBytes = new.maxLineBytes
            c.drainTimeoutSeconds = new.drainTimeoutSeconds
        }
        if needsRestart.isEmpty {
            logger.info("configuration reloaded")
        } else {
            logger.warning("configuration reloaded; changed settings that need a restart were not applied",
                           metadata: ["keys": "\(needsRestart.joined(separator: ","))"])
        }
        return needsRestart
    }

    // MARK: shutdown

    /// Graceful stop (see the file header). Idempotent; returns when everything is closed.
    public func shutdown() async {
        let first = shutdownOnce.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        notifier.stopping()
        notifier.status("stopping")
        logger.info("stopping: draining in-flight requests")
        server.beginDraining()
        statusTimer?.cancel()
        await unixServer?.stopAccepting()

        let drainSeconds = settings.current.drainTimeoutSeconds
        let drained = await Self.firstOf(seconds: drainSeconds) { [engine] in await engine.shutdown(drain: true) }
        if !drained {
            logger.warning("drain timeout reached; stopping the remaining requests",
                           metadata: ["drain_timeout_s": "\(drainSeconds)"])
            await engine.shutdown(drain: false)
        }

        // Connections close once their last answers are written; give them a moment, then force it.
        server.closeAllConnections()
        if let runTask {
            let closed = await Self.firstOf(seconds: 2) { await runTask.value }
            if !closed {
                server.forceCloseAllConnections()
                await runTask.value
            }
        }
        watchdog?.stop()
        await unixServer?.shutdownEventLoops()
        logger.info("stopped")
    }

    /// Runs `work` in a task; true when it finished within `seconds`, false otherwise (it keeps running).
    static func firstOf(seconds: Double, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        let decided = Locked(false)
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            func decide(_ value: Bool) {
                let first = decided.withLock { d -> Bool in
                    defer { d = true }
                    return !d
                }
                if first { c.resume(returning: value) }
            }
            Task {
                await work()
                decide(true)
            }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
                decide(false)
            }
        }
    }
}

/// A model that failed to load (→ exit status 2).
public struct ModelLoadError: Error, CustomStringConvertible {
    public var model: ModelSpec
    public var underlying: any Error
    public var description: String { "cannot load model '\(model.name)' from \(model.directory): \(underlying)" }
}
