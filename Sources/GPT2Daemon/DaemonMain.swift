// DaemonMain — what the gpt2d executable runs: trap signals → config → logging → socket activation →
// models → listen and run the services (SIGHUP reload, SIGTERM/SIGINT graceful shutdown) → exit status.
//
// Signals are trapped first (Lifecycle/SignalService.swift), so one that arrives while the models load
// is acted on once the services run; reload and shutdown then run as ordinary async code, never inside
// a signal handler.

import Foundation
import GPT2Systemd
import Logging
#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// The gpt2d process: returns the exit status (see `ExitCode`).
    public static func main(configPath: String?, overrides: ConfigOverrides) async -> Int32 {
        let signals = await DaemonSignals.trap()
        let config: DaemonConfig
        do {
            config = try DaemonConfig.load(configPath: configPath, overrides: overrides)
        } catch {
            printError("gpt2d: \(error)")
            return ExitCode.configError.rawValue
        }
        DaemonLogging.bootstrap(level: config.logLevel)
        let logger = Logger(label: "gpt2d")
        guard !config.models.isEmpty else {
            logger.critical("no model configured: give --model NAME=DIR or a `model =` line in the config file")
            return ExitCode.configError.rawValue
        }
        let notifier = makeServiceNotifier()

        // Socket activation first: it unsets LISTEN_* so nothing later misreads them.
        let activated = SocketActivation.listenFileDescriptors()
        let target: ListenTarget
        if let listener = SocketActivation.unixListener(named: "gpt2d", in: activated) {
            target = .activated(fileDescriptor: listener.fileDescriptor)
        } else {
            if !activated.isEmpty {
                logger.warning("socket activation passed no usable Unix stream listener; binding the path instead",
                               metadata: ["fds": "\(activated.map { "\($0.fileDescriptor):\($0.name)" })"])
            }
            target = .path(config.socketPath)
        }
        let http = httpTarget(config, activated: activated, jsonLinesActivated: target != .path(config.socketPath))
        // A live socket (another gpt2d answers), a foreign or non-socket file, or an unsafe directory:
        // exit 3 now, before loading the models (bind checks again).
        for case .path(let path)? in [target, http] {
            do {
                _ = try SocketPath.check(path)
            } catch {
                logger.critical("cannot listen: \(error)")
                return ExitCode.listenFailed.rawValue
            }
        }

        // The TCP listener's token file is read before the models load: a bad one is a config error.
        var tcp: HTTPTCPSettings? = nil
        if let address = config.httpTCP, let path = config.httpTokensFile {
            do {
                tcp = HTTPTCPSettings(address: address, tokens: try BearerTokens(path: path, logger: logger))
            } catch {
                logger.critical("http_tokens_file: \(error.message)")
                return ExitCode.configError.rawValue
            }
        }

        let daemon: Daemon
        do {
            // The process's one registry is also swift-metrics' global factory (MetricsSystem.bootstrap).
            let metrics = DaemonMetrics()
            metrics.bootstrapSystem()
            daemon = try Daemon(config: config, notifier: notifier, logger: logger, metrics: metrics)
        } catch {
            logger.critical("\(error)")
            notifier.status("model load failed: \(error)")
            return ExitCode.modelLoadFailed.rawValue
        }
        let reloadService = SignalService(signals: signals, reload: { [daemon] in
            do {
                daemon.reload(try DaemonConfig.load(configPath: configPath, overrides: overrides))
            } catch {
                // Keep running with the old settings; RELOADING=1 must still be followed by READY=1.
                daemon.notifier.reloading()
                logger.error("reload failed; keeping the current settings", metadata: ["error": "\(error)"])
                daemon.notifier.ready()
            }
        }, logger: logger)
        do {
            try await daemon.start(listen: target, http: http, signals: reloadService, tcp: tcp)
        } catch {
            logger.critical("cannot listen: \(error)")
            notifier.status("cannot listen: \(error)")
            return ExitCode.listenFailed.rawValue
        }
        await daemon.waitUntilStopped()
        return ExitCode.ok.rawValue
    }

    /// Where the HTTP listener listens (`http_socket`, HTTPSocketSetting): the activated fd named
    /// "http" when there is one; under activation of the JSON-lines socket with `auto`, nowhere
    /// (the units decide); else the setting's path; nil: no HTTP listener.
    static func httpTarget(_ config: DaemonConfig, activated: [ActivatedSocket], jsonLinesActivated: Bool) -> ListenTarget? {
        if config.httpSocket != .none, let fd = activated.first(where: { $0.name == "http" && $0.isUnixStreamListener }) {
            return .activated(fileDescriptor: fd.fileDescriptor)
        }
        if jsonLinesActivated && config.httpSocket == .auto { return nil }
        return config.httpSocket.path(socket: config.socketPath).map(ListenTarget.path)
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
