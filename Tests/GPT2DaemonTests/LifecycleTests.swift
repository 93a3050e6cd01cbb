// LifecycleTests — the engine's drain deadline (EngineService) with a fake engine: a drain that ends in
// time is left alone; one that does not is cut by `shutdown(drain: false)`, and both calls have returned
// when the service does; cancellation, before or during the drain, stops the engine.

import Foundation
@testable import GPT2Daemon
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// Records shutdown calls. A drain returns at once when `drainsInTime`, else only once a stop (`drain:
/// false`) has been asked for, as the real engine's drain does when its requests never finish.
private final class FakeEngine: DrainableEngine, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [Bool] = []
    private var returned: [Bool] = []
    private var waiting: CheckedContinuation<Void, Never>?
    private var stopped = false
    let drainsInTime: Bool

    init(drainsInTime: Bool) { self.drainsInTime = drainsInTime }

    func shutdown(drain: Bool) async {
        let mustWait = lock.withLock { () -> Bool in
            calls.append(drain)
            guard drain else {
                stopped = true
                waiting?.resume()
                waiting = nil
                return false
            }
            return !(drainsInTime || stopped)
        }
        if mustWait {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.withLock {
                    if stopped { c.resume() } else { waiting = c }
                }
            }
        }
        lock.withLock { returned.append(drain) }
    }

    var log: (calls: [Bool], returned: [Bool]) { lock.withLock { (calls, returned) } }
}

@Suite struct LifecycleTests {
    let logger = Logger(label: "lifecycle-test")

    @Test func drainThatEndsInTimeIsNotCut() async {
        let engine = FakeEngine(drainsInTime: true)
        // The service returns as soon as the drain does: its hour-long deadline is cancelled.
        let service = EngineService(engine: engine, drainTimeoutSeconds: { 3600 }, logger: logger)
        await testGracefulShutdown { trigger in
            trigger.triggerGracefulShutdown()
            await service.run()
        }
        #expect(engine.log.calls == [true])
        #expect(engine.log.returned == [true])
    }

    @Test func drainPastTheDeadlineIsCutAndEnds() async {
        let engine = FakeEngine(drainsInTime: false)
        let service = EngineService(engine: engine, drainTimeoutSeconds: { 0.05 }, logger: logger)
        await testGracefulShutdown { trigger in
            trigger.triggerGracefulShutdown()
            await service.run()
        }
        #expect(engine.log.calls == [true, false])
        // Neither call outlives the service: the drain returned too.
        #expect(Set(engine.log.returned) == [true, false])
        #expect(engine.log.returned.count == 2)
    }

    @Test func cancellationDuringTheDrainStopsTheRest() async {
        let engine = FakeEngine(drainsInTime: false)
        let service = EngineService(engine: engine, drainTimeoutSeconds: { 30 }, logger: logger)
        await testGracefulShutdown { trigger in
            trigger.triggerGracefulShutdown()
            let task = Task { await service.run() }
            while engine.log.calls.isEmpty { await Task.yield() }  // the drain has begun
            task.cancel()
            await task.value
        }
        #expect(engine.log.calls == [true, false])
        #expect(engine.log.returned.count == 2)
    }

    @Test func cancellationStopsAtOnce() async {
        let engine = FakeEngine(drainsInTime: false)
        let service = EngineService(engine: engine, drainTimeoutSeconds: { 30 }, logger: logger)
        await testGracefulShutdown { _ in
            let task = Task { await service.run() }
            task.cancel()
            await task.value
        }
        #expect(engine.log.calls == [false])
    }
}
