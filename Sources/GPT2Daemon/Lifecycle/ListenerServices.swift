// ListenerIntakeService and ListenerConnectionsService — one listener (any transport) as two
// services, because its shutdown has two moments on either side of the engine's drain:
//
//   ListenerIntakeService       (stops before the engine) the listener stops accepting: for the Unix
//                               socket, `health` starts answering shutting_down and the listening
//                               socket is closed (close(2) only; an activated socket stays bound by
//                               systemd, a path we bound is unlinked). Open connections stay.
//   ListenerConnectionsService  (stops after the engine) runs the listener (accept loop and every
//                               connection); at its turn every answer has been produced, so each
//                               connection is asked to close once its last answer is written, and
//                               after `closeGrace` the rest are closed. Then the listener's threads stop.
//
// What brings work in stops before EngineService, what carries answers out stops after it
// (DaemonServices.swift orders them, for every listener of the daemon's list).

import Logging
import ServiceLifecycle

struct ListenerIntakeService: Service {
    let listener: any Listener

    func run() async {
        // Graceful shutdown or cancellation: stop taking connections either way.
        try? await gracefulShutdown()
        await listener.stopAccepting()
    }
}

struct ListenerConnectionsService: Service {
    let listener: any Listener
    /// How long connections may take to write their last answers after the drain.
    var closeGrace: Duration = .seconds(2)

    /// Which child of `run` ended.
    private enum Ended { case acceptLoop, grace }

    func run() async {
        await withTaskGroup(of: Ended.self) { group in
            // Accepts until the listener stops accepting, then returns once every connection has closed.
            group.addTask { [listener] in
                await listener.run()
                return .acceptLoop
            }
            // Not before this service's turn, even when no connection is open: an early return would
            // end the service out of order.
            if (try? await gracefulShutdown()) != nil {
                listener.closeWhenIdle()
                group.addTask { [listener, closeGrace] in
                    try? await Task.sleep(for: closeGrace)
                    if !Task.isCancelled { listener.closeNow() }
                    return .grace
                }
                // The accept loop ending first cancels the timer; the timer ending first has closed what
                // was left, and the group then waits for the accept loop, which ends right after.
                if await group.next() == .acceptLoop { group.cancelAll() }
            } else {
                listener.closeNow()
            }
        }
        await listener.shutdown()
    }
}
