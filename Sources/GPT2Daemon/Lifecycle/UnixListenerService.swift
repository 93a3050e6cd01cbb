// UnixListenerService and UnixConnectionsService — the Unix-socket listener's two halves, as two services
// because its shutdown has two moments on either side of the engine's drain:
//
//   UnixListenerService      (stops before the engine) `health` starts answering shutting_down and the
//                            listening socket is closed (close(2) only; an activated socket stays bound
//                            by systemd, a path we bound is unlinked). Open connections stay.
//   UnixConnectionsService   (stops after the engine) runs the accept loop and every connection; at its
//                            turn every answer has been produced, so each connection is asked to close
//                            once its last answer is written, and after `closeGrace` the rest are closed.
//                            Then the event loops stop.
//
// The rule for any further listener: what brings work in stops before EngineService, what carries answers
// out stops after it (DaemonServices.swift orders them).

import Logging
import ServiceLifecycle

struct UnixListenerService: Service {
    let server: UnixServer
    let state: ServerState

    func run() async {
        // Graceful shutdown or cancellation: stop taking connections either way.
        try? await gracefulShutdown()
        state.beginDraining()
        await server.stopAccepting()
    }
}

struct UnixConnectionsService: Service {
    let server: UnixServer
    let state: ServerState
    /// How long connections may take to write their last answers after the drain.
    var closeGrace: Duration = .seconds(2)

    /// Which child of `run` ended.
    private enum Ended { case acceptLoop, grace }

    func run() async {
        await withTaskGroup(of: Ended.self) { group in
            // Accepts until the listening socket closes, then returns once every connection has closed.
            group.addTask { [server] in
                await server.run()
                return .acceptLoop
            }
            // Not before this service's turn, even when no connection is open: an early return would
            // end the service out of order.
            if (try? await gracefulShutdown()) != nil {
                state.closeAllConnections()
                group.addTask { [state, closeGrace] in
                    try? await Task.sleep(for: closeGrace)
                    if !Task.isCancelled { state.forceCloseAllConnections() }
                    return .grace
                }
                // The accept loop ending first cancels the timer; the timer ending first has closed what
                // was left, and the group then waits for the accept loop, which ends right after.
                if await group.next() == .acceptLoop { group.cancelAll() }
            } else {
                state.forceCloseAllConnections()
            }
        }
        await server.shutdownEventLoops()
    }
}
