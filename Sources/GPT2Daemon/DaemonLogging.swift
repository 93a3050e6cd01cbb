// DaemonLogging — GPT2Logging's journal/stderr handlers behind one process-wide level that a SIGHUP
// reload can change (swift-log fixes a handler's level when a Logger is made; this wrapper reads the
// shared level on every check instead).

import GPT2Systemd
import Logging

public enum DaemonLogging {
    private static let level = Locked<Logger.Level>(.info)
    private static let bootstrapped = Locked(false)

    /// The level every gpt2d logger uses now.
    public static var currentLevel: Logger.Level {
        get { level.current }
        set { level.withLock { $0 = newValue } }
    }

    /// Bootstraps swift-log once per process (journal when stderr is the journal stream, else stderr).
    /// Later calls only set the level (tests start several daemons in one process).
    @discardableResult
    public static func bootstrap(level newLevel: Logger.Level) -> GPT2Logging.Destination? {
        currentLevel = newLevel
        // Bootstrapping inside the lock: a concurrent caller must not make a Logger before it is done.
        return bootstrapped.withLock { done -> GPT2Logging.Destination? in
            guard !done else { return nil }
            done = true
            let destination = GPT2Logging.detectDestination()
            LoggingSystem.bootstrap { label in
                LiveLevelLogHandler(inner: GPT2Logging.makeHandler(label: label, level: .trace, destination: destination))
            }
            return destination
        }
    }
}

/// Forwards to `inner`; its level is `DaemonLogging.currentLevel`.
struct LiveLevelLogHandler: LogHandler {
    var inner: any LogHandler

    var logLevel: Logger.Level {
        get { DaemonLogging.currentLevel }
        set { DaemonLogging.currentLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
