// StatusService — the STATUS= line for `systemctl status` every `period` while serving, and STOPPING=1
// when the graceful shutdown begins (it comes after the listeners in the group, so it is told before them).

import GPT2Systemd
import Logging
import ServiceLifecycle

struct StatusService: Service {
    let notifier: any ServiceNotifier
    /// The current status text (models, sessions, queue, connections).
    let statusLine: @Sendable () -> String
    let logger: Logger
    var period: Duration = .seconds(5)

    func run() async {
        try? await cancelWhenGracefulShutdown { [notifier, statusLine, period] in
            while true {
                try await Task.sleep(for: period)
                notifier.status(statusLine())
            }
        }
        notifier.stopping()
        notifier.status("stopping")
        logger.info("stopping: draining in-flight requests")
    }
}
