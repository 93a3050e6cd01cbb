// Engine+KeepAlive — a model with `keep_alive` (seconds; config `model = NAME@SECONDS=DIR`,
// `models.load`'s `keep_alive_s`) that no request used that long is unloaded, and loaded again at its
// next request:
//
//   unload   once a second the compute loop looks at its serving models (`unloadIdleModels`): one
//            with keep_alive, no live job and no submission for that long stops taking work (under the
//            engine's lock, so no submission slips in between), becomes idle in the registry and is
//            dropped as an unloaded model is (runner, prefix-cache entries, idle sessions' caches);
//            the weights are unmapped with the last reference. Its sessions stay.
//   wake     a request naming an idle model (`resolve`) starts loading it again on the load queue
//            and waits; requests that come meanwhile wait for the same load. Once it serves, each
//            waiting request is submitted as if it had just arrived; a failed load answers them with
//            `model_unavailable` (the loader's message) and the model stays idle. Other models are
//            served throughout. The ops that need the model before they submit (tokenize,
//            detokenize, the task ops' tokenizing, the HTTP endpoints) wait the same way
//            (`whenServing`, `servingModel`): their work runs once the model serves, or they answer
//            the load's `model_unavailable`. `lookup` alone never waits (it starts the load).
//   models   lists idle models too, `loaded: false`, with `keep_alive_s` and `last_used_at`.

import Foundation
import GPT2Wire
import Logging

extension Engine {
    /// What `resolve` did with a request's model.
    enum Resolved {
        case ready(ServedModel)
        /// The model is being loaded again; `retry` or `fail` runs when that ends.
        case pending
        /// `fail` was called.
        case failed
    }

    /// The serving model `name` for a request: `.ready`, or `.pending` while a model keep_alive
    /// unloaded is loaded again (then `retry` runs once it serves, or `fail` with the load's error), or
    /// `.failed` after calling `fail` (no such model, or it is loading or draining).
    func resolve(_ name: String, retry: @escaping () -> Void, fail: @escaping (EngineError) -> Void) -> Resolved {
        let waiter: (EngineError?) -> Void = { e in
            if let e { fail(e) } else { retry() }
        }
        let found: ModelRegistry.Resolution
        do throws(EngineError) { found = try registry.resolve(name, waiter: waiter) } catch {
            fail(error)
            return .failed
        }
        switch found {
        case .ready(let m): return .ready(m)
        case .waiting: return .pending
        case .wake(let idle):
            wake(idle)
            return .pending
        }
    }

    /// Runs `body` with the serving model `name`: at once when it serves, or — a model keep_alive
    /// unloaded — once it has been loaded again (on the load queue's thread), or with the error
    /// (`unknown_model`; `model_unavailable` while it loads or drains, or when loading it again failed).
    /// Bounded as a `generate` waiting for its model is: by the one load every waiter shares.
    public func whenServing(_ name: String, _ body: @escaping (Result<ServedModel, EngineError>) -> Void) {
        let found = resolve(name, retry: { [self] in whenServing(name, body) }, fail: { body(.failure($0)) })
        if case .ready(let m) = found { body(.success(m)) }
    }

    /// `whenServing` for async callers (the HTTP endpoints).
    public func servingModel(_ name: String) async throws(EngineError) -> ServedModel {
        let r: Result<ServedModel, EngineError> = await withCheckedContinuation { c in
            whenServing(name) { c.resume(returning: $0) }
        }
        return try r.get()
    }

    /// Loads an idle model again on the load queue; tells its waiters.
    private func wake(_ idle: ModelRegistry.IdleModel) {
        Engine.loadQueue.async { [self] in
            let started = Engine.now()
            var loaded: ServedModel? = nil
            var failure: EngineError? = nil
            do {
                let m = try loading.load(name: idle.name, directory: idle.origin.directory, weightType: idle.origin.weightType)
                m.keepAliveSeconds = idle.keepAliveSeconds  // not shared yet: no lock
                metrics.modelAdded(m.name)
                loaded = m
            } catch {
                failure = EngineError(.modelUnavailable, "model '\(idle.name)' could not be loaded again (keep_alive): \(error)", field: "model")
            }
            let waiters = registry.finishWake(idle.name, with: loaded)
            Logger(label: "gpt2d").info(loaded == nil ? "model not loaded again (keep_alive)" : "model loaded again (keep_alive)", metadata: [
                "model": "\(idle.name)", "ms": "\(Int((Engine.now() - started) * 1000))", "waiting": "\(waiters.count)",
            ])
            for w in waiters { w(failure) }
        }
    }

    /// Compute thread, once a second: unloads the serving models whose keep_alive ran out (file header).
    func unloadIdleModels() {
        let now = Engine.now()
        for m in registry.serving {
            let lastUsed: Double? = withLock {
                guard let k = m.keepAliveSeconds, m.acceptsWork, m.origin != nil, now - m.lastUsed >= k,
                      !liveJobs.values.contains(where: { $0.model === m }) else { return nil }
                m.acceptsWork = false
                return m.lastUsed
            }
            guard let lastUsed else { continue }
            let keepAlive = withLock { m.keepAliveSeconds }
            guard registry.makeIdle(m, keepAliveSeconds: keepAlive, lastUsedAt: Date().timeIntervalSince1970 - (now - lastUsed)) else {
                withLock { m.acceptsWork = true }
                continue
            }
            let freed = drop(m)
            Logger(label: "gpt2d").info("model unloaded after keep_alive", metadata: [
                "model": "\(m.name)", "keep_alive_s": "\(keepAlive ?? 0)", "freed_kv_blocks": "\(freed)",
            ])
        }
    }

    /// What `models` lists: every serving model and every model keep_alive unloaded, in order, with
    /// `loaded`, `keep_alive_s` and `last_used_at` (Unix seconds).
    public func modelListing() -> [ModelInfo] {
        let wall = Date().timeIntervalSince1970, now = Engine.now()
        return registry.listed.map { entry -> ModelInfo in
            switch entry {
            case .served(let m):
                var info = m.info
                let (keepAlive, used) = withLock { (m.keepAliveSeconds, m.lastUsed) }
                info.loaded = true
                info.keepAliveSeconds = keepAlive
                info.lastUsedAt = wall - (now - used)
                return info
            case .idle(let idle):
                var info = idle.info
                info.loaded = false
                info.keepAliveSeconds = idle.keepAliveSeconds
                info.lastUsedAt = idle.lastUsedAt
                return info
            }
        }
    }

    /// A new keep_alive for the model `name` (SIGHUP: only its `@SECONDS` changed); false when no model
    /// of that name is served or idle.
    @discardableResult
    public func setKeepAlive(_ name: String, seconds: Double?) -> Bool {
        if let m = registry.model(named: name) {
            withLock { m.keepAliveSeconds = seconds }
            return true
        }
        return registry.setIdleKeepAlive(name, seconds: seconds)
    }
}
