// EngineService — the engine's shutdown as a service. The engine is started before the group runs (it
// must accept work before the socket does); this service waits for its turn in the graceful shutdown,
// which comes after the listeners stopped taking connections and before the connections close:
//
//   drain      engine.shutdown(drain: true): new work is refused with `shutting_down`, running requests
//              finish normally;
//   deadline   if that takes longer than drain_timeout_s (read now: a reload may have changed it), the
//              rest is stopped with engine.shutdown(drain: false), which also ends the drain call.
//
// Both calls run in one task group, so neither outlives the service. On cancellation (not a graceful
// shutdown) the engine is stopped at once.

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
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [engine] in
                await engine.shutdown(drain: true)
                return true
            }
            group.addTask {
                // Ends early when cancelled (the drain finished first, or the service was cancelled).
                try? await Task.sleep(for: .seconds(seconds))
                return false
            }
            let drained = await group.next() ?? false
            if drained {
                group.cancelAll()
            } else {
                logger.warning("drain timeout reached; stopping the remaining requests",
                               metadata: ["drain_timeout_s": "\(seconds)"])
                await engine.shutdown(drain: false)
            }
        }
    }
}
