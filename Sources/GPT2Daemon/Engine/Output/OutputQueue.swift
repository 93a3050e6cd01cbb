// OutputQueue — the serial queue one request's output runs on: detokenizing its tokens, finding its
// stop strings and handing its events to the listener, in the order the engine produced them. One
// per request (a request's sequences share it, so their events keep the engine's order); they all
// target one concurrent queue, so different requests' text work runs in parallel on the cores the
// compute thread leaves, never on the compute thread, and no request waits behind another's.
import Dispatch

final class OutputQueue: Sendable {
    /// What every request's queue runs on.
    private static let shared = DispatchQueue(label: "gpt2d-output", qos: .userInitiated, attributes: .concurrent)

    private let queue = DispatchQueue(label: "gpt2d-output.request", target: OutputQueue.shared)

    /// Runs `body` after everything queued before it (returns at once).
    func async(_ body: @escaping @Sendable () -> Void) { queue.async(execute: body) }
}
