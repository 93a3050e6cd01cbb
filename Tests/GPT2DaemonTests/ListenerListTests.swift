// The daemon's list of listeners: every listener of the list is started and stopped by the service
// group, each in the order a listener's shutdown needs (stop accepting before the engine drains,
// close connections after it, release threads last) — here with two fake transports beside the engine.
import Foundation
import Logging
import ServiceLifecycle
import Testing
import GPT2Systemd
@testable import GPT2Daemon

/// Records what the services ask of it into a log shared by every fake listener. `run()` returns once
/// it was asked to stop accepting and then to close its (pretend) connections.
private final class FakeListener: Listener, @unchecked Sendable {
    let name: String
    private let log: EventRecorder
    private let lock = NSLock()
    private var accepting = true, closed = false
    private var runWaiter: CheckedContinuation<Void, Never>?

    init(_ name: String, log: EventRecorder) { self.name = name; self.log = log }

    func run() async {
        log.add("\(name) run")
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = lock.withLock { () -> Bool in
                if !accepting && closed { return true }
                runWaiter = c
                return false
            }
            if done { c.resume() }
        }
        log.add("\(name) run returned")
    }
    func stopAccepting() async { log.add("\(name) stopAccepting"); update { $0.accepting = false } }
    func closeWhenIdle() { log.add("\(name) closeWhenIdle"); update { $0.closed = true } }
    func closeNow() { log.add("\(name) closeNow"); update { $0.closed = true } }
    func shutdown() async { log.add("\(name) shutdown") }
    var openConnections: Int { 0 }

    private func update(_ change: (FakeListener) -> Void) {
        let waiter = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            change(self)
            guard !accepting && closed else { return nil }
            defer { runWaiter = nil }
            return runWaiter
        }
        waiter?.resume()
    }
}

private final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [String] = []
    func add(_ e: String) { lock.withLock { events.append(e) } }
    var all: [String] { lock.withLock { events } }
}

@Suite struct ListenerListTests {
    @Test func everyListenerOfTheListIsStartedAndStoppedInOrder() async throws {
        let engine = try makeEngine()
        let log = EventRecorder()
        let listeners = [FakeListener("a", log: log), FakeListener("b", log: log)]
        let group = DaemonServices.group(
            engine: engine, listeners: listeners, watchdog: nil, notifier: NoopNotifier(), statusLine: { "" },
            drainTimeoutSeconds: { 5 }, signals: nil, logger: Logger(label: "listener-list-test"))
        let run = Task { try await group.run() }
        // Both accept loops are running before the shutdown begins.
        while !(log.all.contains("a run") && log.all.contains("b run")) { try await Task.sleep(for: .milliseconds(5)) }
        await group.triggerGracefulShutdown()
        try await run.value
        let events = log.all
        func at(_ e: String) -> Int { events.firstIndex(of: e) ?? Int.max }
        for n in ["a", "b"] {
            #expect(at("\(n) stopAccepting") < at("\(n) closeWhenIdle"), "\(events)")
            #expect(at("\(n) closeWhenIdle") < at("\(n) run returned"), "\(events)")
            #expect(at("\(n) run returned") < at("\(n) shutdown"), "\(events)")
            #expect(!events.contains("\(n) closeNow"), "\(events)")
        }
        // Intake of every listener stops before (the engine drains, then) any connections close.
        #expect(max(at("a stopAccepting"), at("b stopAccepting")) < min(at("a closeWhenIdle"), at("b closeWhenIdle")), "\(events)")
        #expect(!engine.isHealthy)  // the engine service stopped the engine in between
    }
}
