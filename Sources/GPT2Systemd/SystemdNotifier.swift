// SystemdNotifier — sd_notify(3) over libsystemd.
//
// `sd_notify(0, state)` reads `$NOTIFY_SOCKET` on every call (a path or `@abstract` name), opens a
// datagram socket, sends `state` and closes it. It takes no lock and keeps no state, so calling it
// from several threads at once is safe. `unset_environment` is always 0: the variable stays set so
// later messages (STATUS, WATCHDOG, STOPPING) still reach the manager. gpt2d starts no child
// processes, so nothing inherits it by accident.

import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Sends notifications to systemd through `sd_notify`.
public struct SystemdNotifier: ServiceNotifier {
    public init() {}

    /// True when `NOTIFY_SOCKET` is set (the process runs as a `Type=notify` service, or a test fakes it).
    public var isActive: Bool { Self.environmentHasNotifySocket }

    static var environmentHasNotifySocket: Bool {
        guard let value = getenv("NOTIFY_SOCKET") else { return false }
        return value.pointee != 0
    }

    /// Sends `state` with `sd_notify(0, state)`.
    /// - Returns: true when a datagram was sent; false when `NOTIFY_SOCKET` is unset or sending failed
    ///   (use `sendReturningCode(_:)` to see which).
    @discardableResult
    public func send(_ state: String) -> Bool {
        sendReturningCode(state) > 0
    }

    /// Like `send(_:)` but returns sd_notify's result: > 0 sent, 0 `NOTIFY_SOCKET` unset, < 0 `-errno`.
    public func sendReturningCode(_ state: String) -> Int32 {
        state.withCString { sd_notify(0, $0) }
    }
}
