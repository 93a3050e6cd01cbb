// ServingState — what every listener of the daemon reads and shares, whatever its transport: whether
// the daemon still serves or is draining (the JSON-lines `health` op and the HTTP `GET /health` answer
// from this one flag), and the daemon-unique connection numbers (`ClientIdentity.connection`, which
// `Engine.cancelAll(connection:)` and `JobKey` rely on, so two listeners never hand out the same one).
// The daemon makes one and gives it to each listener; the first listener told to stop accepting
// begins the drain for all.
public final class ServingState: Sendable {
    private struct Mutable {
        var draining = false
        var nextConnection: UInt64 = 0
    }
    private let state = Locked(Mutable())

    public init() {}

    /// True once shutdown began: every listener's health answer says the daemon is shutting down.
    public var isDraining: Bool { state.withLock { $0.draining } }

    func beginDraining() { state.withLock { $0.draining = true } }

    /// A new daemon-unique connection number (1, 2, …).
    func nextConnectionNumber() -> UInt64 {
        state.withLock { s in
            s.nextConnection += 1
            return s.nextConnection
        }
    }
}
