// ServiceNotifier — the daemon's view of the service manager's notify protocol (sd_notify(3)).
//
// Messages are newline-separated `KEY=VALUE` assignments sent as one datagram to `$NOTIFY_SOCKET`.
// `SystemdNotifier` sends them with libsystemd's `sd_notify` (the variadic `sd_notifyf` does not import
// into Swift, so every message is formatted here first). `NoopNotifier` is used when the process does not
// run under systemd; `makeServiceNotifier()` picks one of the two.
//
// Note that this file never imports CSystemd itself; `SystemdNotifier` lives in SystemdNotifier.swift.

#if canImport(Glibc)
import Glibc
#endif

/// Something that tells the service manager about the daemon's lifecycle.
///
/// Only `send(_:)` and `isActive` are requirements; the named messages (`ready()`, `status(_:)`, …)
/// are built on `send(_:)` in an extension, so a test double only has to record strings.
/// Implementations must be safe to call from any thread.
public protocol ServiceNotifier: Sendable {
    /// True when messages go somewhere (for systemd: `NOTIFY_SOCKET` is set).
    var isActive: Bool { get }

    /// Sends one preformatted notification (`KEY=VALUE` lines separated by `\n`).
    /// - Returns: true when the message was delivered; false when inactive or sending failed.
    @discardableResult
    func send(_ state: String) -> Bool
}

extension ServiceNotifier {
    /// `READY=1`: start-up finished (weights mapped, socket accepting). Also ends a reload.
    @discardableResult
    public func ready() -> Bool { send("READY=1") }

    /// `STATUS=<text>`: a one-line, human-readable status shown by `systemctl status`.
    /// Newlines in `text` are replaced by spaces, since a newline would start a new assignment.
    @discardableResult
    public func status(_ text: String) -> Bool { send("STATUS=" + NotifyMessage.singleLine(text)) }

    /// `STOPPING=1`: graceful shutdown started.
    @discardableResult
    public func stopping() -> Bool { send("STOPPING=1") }

    /// `RELOADING=1` plus `MONOTONIC_USEC=<CLOCK_MONOTONIC µs>`: a reload started; send `ready()` when done.
    /// (The pair is what `Type=notify-reload` (systemd ≥ 253) requires; on 252 it is informative.)
    @discardableResult
    public func reloading() -> Bool {
        send("RELOADING=1\nMONOTONIC_USEC=\(NotifyMessage.monotonicMicroseconds())")
    }

    /// `WATCHDOG=1`: keep-alive ping for `WatchdogSec=`.
    @discardableResult
    public func watchdog() -> Bool { send("WATCHDOG=1") }

    /// `WATCHDOG=trigger`: ask the service manager to act as if the watchdog timed out.
    @discardableResult
    public func watchdogTrigger() -> Bool { send("WATCHDOG=trigger") }

    /// `EXTEND_TIMEOUT_USEC=<usec>`: the current start/stop/runtime timeout is extended so that it ends
    /// no earlier than `usec` from now (send repeatedly while loading large weights).
    @discardableResult
    public func extendTimeout(usec: UInt64) -> Bool { send("EXTEND_TIMEOUT_USEC=\(usec)") }

    /// `ERRNO=<code>`: the errno-style reason of a failure (sent before exiting).
    @discardableResult
    public func errno(_ code: Int32) -> Bool { send("ERRNO=\(code)") }
}

extension ServiceNotifier where Self == NoopNotifier {
    /// A notifier that drops every message (the process is not a systemd `Type=notify` service).
    public static var noop: NoopNotifier { NoopNotifier() }
}

/// Picks the notifier for this process: `SystemdNotifier` when `NOTIFY_SOCKET` is set, else `NoopNotifier`.
public func makeServiceNotifier() -> any ServiceNotifier {
    SystemdNotifier.environmentHasNotifySocket ? SystemdNotifier() : NoopNotifier()
}

/// Drops every message; `isActive` is false. For running outside systemd and for tests.
public struct NoopNotifier: ServiceNotifier {
    public init() {}
    public var isActive: Bool { false }
    @discardableResult
    public func send(_ state: String) -> Bool { false }
}

/// Helpers shared by notifier implementations (pure, testable).
public enum NotifyMessage {
    /// `text` with every CR/LF replaced by a space, so it stays one `KEY=VALUE` assignment.
    public static func singleLine(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(scalar == "\n" || scalar == "\r" ? " " : scalar)
        }
        return String(out)
    }

    /// The current `CLOCK_MONOTONIC` time in microseconds (the clock `MONOTONIC_USEC=` refers to).
    public static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
    }
}
