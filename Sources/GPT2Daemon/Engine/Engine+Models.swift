// Engine+Models — models added, replaced and removed while the engine serves (ModelRegistry.swift).
//
//   load      the name is reserved, the checkpoint loaded on the caller's thread (`loadModelNow`:
//             SIGHUP) or on a load queue (`loadModel`: the `models.load` op) — never on the compute
//             thread, which keeps stepping the other models meanwhile — and then served.
//   unload    the name drains (new requests: `model_unavailable`), running requests of the model run
//             to their end for up to the drain time; those still running then end with
//             `model_unavailable`. Once no job holds the model, the compute thread drops what the
//             engine keeps of it (its runner, its prefix-cache entries, idle sessions' KV caches of
//             its pool) and the name is gone (`unknown_model`). The weights are unmapped when the
//             last reference goes (the registry's, the jobs', the runner's). Sessions keep their
//             history (in memory and in the state folder) and work again once a model of that name
//             serves: their KV cache is recomputed from the history.
//   replace   (SIGHUP: a model's directory or type changed) the new model is loaded beside the old
//             one and takes its name at once; the old one drains as in an unload, without a name.
//
// A job holds its model by reference from submission to its end, so nothing here blocks a step.

import Dispatch
import Foundation
import GPT2Core

extension Engine {
    /// What an unload did.
    public struct UnloadReport: Sendable, Equatable {
        /// Requests still running at the end of the drain time, ended with `model_unavailable`.
        public var stoppedRequests: Int
        /// KV blocks of the model given back when it was dropped (prefix-cache entries, idle sessions'
        /// caches; a finished request's own blocks are given back when it ends).
        public var freedKVBlocks: Int
    }

    /// Where `loadModel` loads (a few seconds of mapping and converting, off every other thread).
    static let loadQueue = DispatchQueue(label: "gpt2d-model-load", qos: .userInitiated, attributes: .concurrent)

    /// Loads `directory` and serves it as `name` (the `models.load` op): `model_exists` when the name
    /// is taken, `model_load_failed` (the loader's message, field "directory") when the directory does
    /// not load. Returns the model and the seconds its load took.
    public func loadModel(name: String, directory: String, weightType: WeightType?, keepAliveSeconds: Double? = nil)
        async throws(EngineError) -> (model: ServedModel, seconds: Double) {
        let result: Result<(model: ServedModel, seconds: Double), EngineError> = await withCheckedContinuation { c in
            Engine.loadQueue.async { [self] in
                do throws(EngineError) {
                    c.resume(returning: .success(try loadModelNow(name: name, directory: directory, weightType: weightType,
                                                                  keepAliveSeconds: keepAliveSeconds)))
                } catch {
                    c.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// `loadModel` on the caller's thread (never the compute thread).
    public func loadModelNow(name: String, directory: String, weightType: WeightType?, keepAliveSeconds: Double? = nil)
        throws(EngineError) -> (model: ServedModel, seconds: Double) {
        try registry.reserve(name)
        let started = Engine.now()
        let m: ServedModel
        do {
            m = try loading.load(name: name, directory: directory, weightType: weightType)
        } catch {
            registry.cancelReservation(name)
            throw EngineError(.modelLoadFailed, "cannot load model '\(name)' from \(directory): \(error)", field: "directory")
        }
        m.keepAliveSeconds = keepAliveSeconds  // not shared yet: no lock
        metrics.modelAdded(m.name)
        registry.install(m)
        sessions.setServedModels(registry.sessionNames)
        return (m, Engine.now() - started)
    }

    /// SIGHUP's changed model: `directory` loaded on the caller's thread beside the model serving as
    /// `name`, then serving in its place; the old one drains in the background (up to `drainTimeout`
    /// seconds, as `unloadModel`). A name that serves nothing is simply loaded.
    public func replaceModel(name: String, directory: String, weightType: WeightType?, keepAliveSeconds: Double? = nil,
                             drainTimeout: Double) throws(EngineError) -> (model: ServedModel, seconds: Double) {
        if try registry.removeIdle(name) { sessions.setServedModels(registry.sessionNames) }  // keep_alive had unloaded it
        guard registry.model(named: name) != nil else {
            return try loadModelNow(name: name, directory: directory, weightType: weightType, keepAliveSeconds: keepAliveSeconds)
        }
        let started = Engine.now()
        let m: ServedModel
        do {
            m = try loading.load(name: name, directory: directory, weightType: weightType)
        } catch {
            throw EngineError(.modelLoadFailed, "cannot load model '\(name)' from \(directory): \(error)", field: "directory")
        }
        m.keepAliveSeconds = keepAliveSeconds
        metrics.modelAdded(m.name)
        if let old = registry.replace(with: m) {
            withLock { old.acceptsWork = false }
            Task { _ = await self.drainAndDrop(old, drainTimeout: drainTimeout, reason: "model '\(name)' was replaced") }
        }
        sessions.setServedModels(registry.sessionNames)
        return (m, Engine.now() - started)
    }

    /// Stops serving `name` (the `models.unload` op, SIGHUP's removed model): `unknown_model` when no
    /// model of that name serves. Returns once the model is dropped (see the file header).
    public func unloadModel(named name: String, drainTimeout: Double) async throws(EngineError) -> UnloadReport {
        if try registry.removeIdle(name) {  // keep_alive had unloaded it: nothing holds memory
            sessions.setServedModels(registry.sessionNames)
            return UnloadReport(stoppedRequests: 0, freedKVBlocks: 0)
        }
        let (report, released) = try await drainAndRemove(name, drainTimeout: drainTimeout)
        // The engine holds the model no more; a request that has just ended may still hold its job
        // (and so the model) while its reply is written: answer once the weights are gone, waiting a
        // bounded time for that.
        _ = await released.wait(seconds: Engine.releaseWaitSeconds)
        return report
    }

    /// How long an unload waits, after the engine let go of a model, for the last reference to it.
    static let releaseWaitSeconds = 5.0

    /// `unloadModel`'s drain and removal; the model's last strong reference here ends with this call.
    private func drainAndRemove(_ name: String, drainTimeout: Double) async throws(EngineError) -> (UnloadReport, ReleaseSignal) {
        let m = try registry.beginDrain(name)
        withLock { m.acceptsWork = false }
        sessions.setServedModels(registry.sessionNames)
        let report = await drainAndDrop(m, drainTimeout: drainTimeout, reason: "model '\(name)' was unloaded")
        registry.remove(m)
        return (report, m.released)
    }

    /// Waits until no job holds `m`; at the deadline its live jobs are told to end with
    /// `model_unavailable`. Then the compute thread drops what the engine keeps of `m`.
    func drainAndDrop(_ m: ServedModel, drainTimeout: Double, reason: String) async -> UnloadReport {
        let deadline = Engine.now() + max(0, drainTimeout)
        var stopped = 0
        while true {
            let (live, cut) = withLock { () -> (Int, Int) in
                let jobs = liveJobs.values.filter { $0.model === m }
                guard !jobs.isEmpty, Engine.now() >= deadline else { return (jobs.count, 0) }
                let running = jobs.filter { $0.cancelReason == nil }
                cancelLocked(running, reason: EngineError(.modelUnavailable, reason + " (the request ran past its drain time)"))
                cond.broadcast()
                return (jobs.count, running.filter { $0.role == .request }.count)
            }
            stopped += cut
            if live == 0 { break }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        let freed = await onComputeThread { [self] in drop(m) }
        return UnloadReport(stoppedRequests: stopped, freedKVBlocks: freed)
    }

    /// Compute thread, once no job holds `m`: its runner, prefix-cache entries and idle sessions' caches
    /// go. Returns the KV blocks given back.
    func drop(_ m: ServedModel) -> Int {
        let before = m.pool.blocksInUse
        prefixCache.removeAll(pool: m.pool)
        sessions.dropCaches(pool: m.pool)
        runners[m.serial] = nil
        return before - m.pool.blocksInUse
    }

    /// Runs `body` on the compute thread at its next pass (the loop takes `chores` under the lock), or
    /// at once on this thread when the compute thread is not running (not started, or exited).
    func runOnComputeThread(_ body: @escaping () -> Void) {
        cond.lock()
        guard threadStarted && running else { cond.unlock(); return body() }
        chores.append(body)
        cond.broadcast()
        cond.unlock()
    }

    /// `runOnComputeThread`, awaiting `body`'s value.
    func onComputeThread(_ body: @escaping () -> Int) async -> Int {
        await withCheckedContinuation { (c: CheckedContinuation<Int, Never>) in
            runOnComputeThread { c.resume(returning: body()) }
        }
    }
}
