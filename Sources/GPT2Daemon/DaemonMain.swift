// DaemonMain — what the gpt2d executable runs: config → logging → socket activation → models →
// listen → wait for signals (SIGHUP reload, SIGTERM/SIGINT stop) → exit status.
//
// Signals: their default action is set to ignore first, then DispatchSource signal sources deliver
// them on a private queue into an AsyncStream that the main loop reads, so reload and shutdown run as
// ordinary async code and never inside a signal handler.

import Dispatch
import Foundation
import GPT2Systemd
import Logging
#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// The gpt2d process: returns the exit status (see `ExitCode`).
    public static func main(configPath: String?, overrides: ConfigOverrides) async -> Int32 {
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

        let signals = SignalStream(SIGTERM, SIGINT, SIGHUP)

        let daemon: Daemon
        do {
            daemon = try Daemon(config: config, notifier: notifier, logger: logger)
        } catch {
            logger.critical("\(error)")
            notifier.status("model load failed: \(error)")
            return ExitCode.modelLoadFailed.rawValue
        }
        do {
            try await daemon.start(listen: target)
        } catch {
            logger.critical("cannot listen", metadata: ["error": "\(error)"])
            notifier.status("cannot listen: \(error)")
            return ExitCode.listenFailed.rawValue
        }

        for await signal in signals.stream {
            if signal == SIGHUP {
                logger.info("SIGHUP: reloading configuration")
                do {
                    daemon.reload(try DaemonConfig.load(configPath: configPath, overrides: overrides))
                } catch {
                    // Keep running with the old settings; RELOADING=1 must still be followed by READY=1.
                    daemon.notifier.reloading()
                    logger.error("reload failed; keeping the current settings", metadata: ["error": "\(error)"])
                    daemon.notifier.ready()
                }
                continue
            }
            logger.info("signal \(signal): shutting down")
            break
        }
        await daemon.shutdown()
        signals.cancel()
        return ExitCode.ok.rawValue
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Delivers the given signals as an AsyncStream (their default action is ignored while it exists).
final class SignalStream: @unchecked Sendable {
    let stream: AsyncStream<Int32>
    private let sources: [DispatchSourceSignal]

    init(_ signals: Int32...) {
        let queue = DispatchQueue(label: "gpt2d.signals")
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            return source
        }
    }

    func cancel() { for s in sources { s.cancel() } }
}
