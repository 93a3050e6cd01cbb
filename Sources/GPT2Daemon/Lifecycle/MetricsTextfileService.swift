// MetricsTextfileService — `metrics_textfile`: the exposition written (MetricsTextfile: atomically)
// when the group starts, every `metrics_textfile_interval_s` while serving, and once more at graceful
// shutdown. It comes right after the watchdog in the group, so it is told after the listeners have
// closed their connections and the engine has drained: the last file holds the final counts.
// A failed write logs one warning (and one line when writing works again); the daemon goes on serving.
// The file is written on this service's task, never on the compute thread or an event loop.

import Logging
import ServiceLifecycle

struct MetricsTextfileService: Service {
    let textfile: MetricsTextfile
    let interval: Duration
    /// The exposition text now (DaemonMetrics.exposition).
    let exposition: @Sendable () -> String
    let logger: Logger
    private let failing = Locked(false)

    init(textfile: MetricsTextfile, interval: Duration, exposition: @escaping @Sendable () -> String, logger: Logger) {
        self.textfile = textfile; self.interval = interval; self.exposition = exposition; self.logger = logger
    }

    func run() async {
        writeOnce()
        try? await cancelWhenGracefulShutdown { [self] in
            while true {
                try await Task.sleep(for: interval)
                writeOnce()
            }
        }
        writeOnce()
    }

    /// One write; logs only a change between failing and working.
    func writeOnce() {
        do throws(MetricsTextfile.WriteError) {
            try textfile.write(exposition())
            if failing.withLock({ f in defer { f = false }; return f }) {
                logger.info("metrics textfile written again", metadata: ["path": "\(textfile.path)"])
            }
        } catch {
            if !failing.withLock({ f in defer { f = true }; return f }) {
                logger.warning("cannot write the metrics textfile", metadata: ["path": "\(textfile.path)", "error": "\(error)"])
            }
        }
    }
}
