// DaemonServices — the daemon's ServiceGroup: which services run, and in which order.
//
// ServiceGroup starts the services in list order and, on graceful shutdown, tells them in reverse
// order, one at a time, waiting for each to return before telling the next. The list is therefore the
// shutdown sequence read backwards:
//
//   1 WatchdogService           (told last)  WATCHDOG=1 keeps going until everything else has stopped
//   · MetricsTextfileService (with `metrics_textfile`): the last write, with the final counts
//   2 ListenerConnectionsService, one per listener: connections close once their answers are written
//                                            (bounded)
//   3 EngineService                          drain for up to drain_timeout_s, then stop the rest
//   4 ListenerIntakeService, one per listener: stop accepting (the Unix socket: health says
//                                            shutting_down; the listening socket closes)
//   5 EngineIntakeService                    new work is refused with shutting_down (before any
//                                            listener says it is stopping; running work goes on)
//   6 StatusService                          STOPPING=1 (periodic STATUS= until then)
//   7 SignalService (gpt2d only, told first) SIGHUP reloads; SIGTERM/SIGINT start the shutdown
//
// A service that ends on its own while the daemon runs (an accept loop that failed, a shutdown signal)
// shuts the whole group down gracefully, so the same sequence runs.

import GPT2Systemd
import Logging
import ServiceLifecycle

enum DaemonServices {
    /// The group for a started daemon (engine running, every listener bound).
    static func group(
        engine: Engine, listeners: [any Listener], watchdog: Watchdog?,
        notifier: any ServiceNotifier, statusLine: @escaping @Sendable () -> String,
        drainTimeoutSeconds: @escaping @Sendable () -> Double, signals: SignalService?, logger: Logger,
        textfile: MetricsTextfileService? = nil
    ) -> ServiceGroup {
        var services: [any Service] = []
        if let watchdog { services.append(WatchdogService(watchdog: watchdog)) }
        if let textfile { services.append(textfile) }
        services += listeners.map { ListenerConnectionsService(listener: $0) as any Service }
        services.append(EngineService(engine: engine, drainTimeoutSeconds: drainTimeoutSeconds, logger: logger))
        services += listeners.map { ListenerIntakeService(listener: $0) as any Service }
        services.append(EngineIntakeService(engine: engine))
        services.append(StatusService(notifier: notifier, statusLine: statusLine, logger: logger))
        if let signals { services.append(signals) }
        let configurations = services.map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        return ServiceGroup(configuration: ServiceGroupConfiguration(services: configurations, logger: logger))
    }
}
