// EngineService — the engine's shutdown as a service. The engine is started before the group runs (it
// must accept work before the socket does); this service waits for its turn in the graceful shutdown,
// which comes after the listeners stopped taking connections and before the connections close:
//
//   drain      engine.shutdown(drain: true): new work is refused with `shutting_down`, running requests
//              finish normally;
//   deadline   if that takes longer than drain_timeout_s (read now: a reload may have changed it), the
//              rest is stopped with engine.shutdown(drain: false), which also ends the drain call.
//
// The deadline is a child task of the service, so neither call outlives it. On cancellation (not a
// graceful shutdown) the engine is stopped at once.

import Logging
import ServiceLifecycle

/// What EngineService needs of an engine: its public shutdown call (tests use a fake).
protocol DrainableEngine: Sendable {
    /// Stops accepting work; with `drain`, running work finishes first. Returns when the engine stopped.
    func shutdown(drain: Bool) async
}

extension Engine: DrainableEngine {}

struct EngineService: Service {
    let engine: any DrainableEngine
    /// drain_timeout_s in effect when the drain starts, seconds.
    let drainTimeoutSeconds: @Sendable () -> Double
    let logger: Logger

    func run() async {
        guard (try? await gracefulShutdown()) != nil else {
            await engine.shutdown(drain: false)
            return
        }
        let seconds = max(0, drainTimeoutSeconds())
        let drained = Locked(false)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [engine, logger] in
                // The deadline. Cancelled when the drain ends in time; cancelled with the service, or
                // expired, it stops the rest, which also ends the drain call below.
                try? await Task.sleep(for: .seconds(seconds))
                guard !drained.current else { return }
                if !Task.isCancelled {
                    logger.warning("drain timeout reached; stopping the remaining requests",
                                   metadata: ["drain_timeout_s": "\(seconds)"])
                }
                await engine.shutdown(drain: false)
            }
            // Called at once in this task, so new work is refused as soon as the service's turn comes.
            await engine.shutdown(drain: true)
            drained.withLock { $0 = true }
            group.cancelAll()
        }
    }
}
