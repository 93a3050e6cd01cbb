// EngineIntakeService — the first moment of the engine's shutdown: at its turn (before any listener
// stops accepting, so before `health` says shutting_down) the engine refuses new work with
// `shutting_down`; what is running goes on until EngineService drains it. Without it, a request sent on
// an open connection after `health` said shutting_down could still be admitted.

import ServiceLifecycle

struct EngineIntakeService: Service {
    let engine: Engine

    func run() async {
        // Graceful shutdown or cancellation: stop taking work either way.
        try? await gracefulShutdown()
        engine.stopAcceptingWork()
    }
}
