// SignalService — the gpt2d process's signals: SIGHUP reloads the configuration, SIGTERM/SIGINT end this
// service, which (configured with `.gracefullyShutdownGroup`) starts the group's graceful shutdown.
//
// The signals are trapped by `DaemonSignals.trap()` at the very start of `Daemon.main`, before the models
// load (a start-up can take seconds): a signal that arrives meanwhile is delivered here once the group
// runs, rather than killing the process. (ServiceGroup's own `gracefulShutdownSignals` would trap them
// only when the group starts.) The in-process daemon of the tests has no SignalService.
//
// A reload can take seconds (it loads the models the config file adds or changes), so it runs on its
// own serial queue: reloads stay one at a time and in order, and a SIGTERM during one is still read
// at once — the shutdown does not wait for a model to finish loading.

import Dispatch
import Logging
import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

enum DaemonSignals {
    /// Traps SIGTERM, SIGINT and SIGHUP for the rest of the process: their default action is set to
    /// ignore (so a signal that arrives while no sequence listens cannot kill the process mid-drain) and
    /// the returned sequence receives them.
    static func trap() async -> UnixSignalsSequence {
        for s in [SIGTERM, SIGINT, SIGHUP] { signal(s, SIG_IGN) }
        return await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
    }
}

struct SignalService: Service {
    let signals: UnixSignalsSequence
    /// Re-reads the configuration and applies it (RELOADING=1 … READY=1).
    let reload: @Sendable () -> Void
    let logger: Logger
    /// Where reloads run (one at a time, off this loop).
    private let reloads = DispatchQueue(label: "gpt2d.reload")

    init(signals: UnixSignalsSequence, reload: @escaping @Sendable () -> Void, logger: Logger) {
        self.signals = signals; self.reload = reload; self.logger = logger
    }

    func run() async {
        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sighup {
                logger.info("SIGHUP: reloading configuration")
                reloads.async(execute: reload)
            } else {
                logger.info("signal \(signal): shutting down")
                return
            }
        }
    }
}
