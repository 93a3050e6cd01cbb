// ModelRegistry — the set of models the engine serves, which changes at run time (`models.load`,
// `models.unload`, SIGHUP's model list). One lock guards a table name → state; nothing here loads,
// computes or waits.
//
//   loading    the name is reserved while its checkpoint loads (off the compute thread); a second
//              load of the name gets `model_exists`, requests naming it `model_unavailable`.
//   serving    requests naming it get this `ServedModel`.
//   draining   being unloaded: requests naming it get `model_unavailable`; its running jobs finish or
//              are stopped; then the name is gone (`unknown_model`).
//   idle       unloaded by keep_alive (Engine+KeepAlive.swift): what loading it again needs and what
//              `models` shows meanwhile; the next request loads it again (`resolve`), and every request
//              that comes during that load waits for the same load.
//
// The compute thread never reads the table: a job holds its model by reference from submission to
// its end, so a change here never blocks a step and never takes a model from a running job.

import Foundation
import GPT2Wire

final class ModelRegistry: @unchecked Sendable {
    /// A model keep_alive unloaded.
    struct IdleModel {
        let name: String
        let origin: ModelOrigin
        var keepAliveSeconds: Double?
        /// What `models` shows for it (its entry while it served).
        let info: ModelInfo
        /// Wall-clock seconds of its last use.
        let lastUsedAt: Double
        /// Told when it serves again (nil) or its load failed; non-empty while it is being loaded again.
        var waiters: [(EngineError?) -> Void] = []
    }

    enum State {
        case loading
        case serving(ServedModel)
        case draining(ServedModel)
        case idle(IdleModel)
    }

    /// What `resolve` found.
    enum Resolution {
        case ready(ServedModel)
        /// Idle: the caller starts loading it again; its waiter is told when that ends.
        case wake(IdleModel)
        /// Idle and already being loaded again: the waiter is told when that ends.
        case waiting
    }

    /// One entry of `models`.
    enum Listed {
        case served(ServedModel)
        case idle(IdleModel)
    }

    private let lock = NSLock()
    private var states: [String: State] = [:]
    /// Names in the order they were first added (the `models` op lists in this order).
    private var order: [String] = []

    init(models: [ServedModel]) {
        for m in models where states[m.name] == nil {
            states[m.name] = .serving(m)
            order.append(m.name)
        }
    }

    private func locked<T>(_ body: () throws(EngineError) -> T) throws(EngineError) -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    /// The serving models, in order.
    var serving: [ServedModel] {
        lock.lock(); defer { lock.unlock() }
        return order.compactMap { name -> ServedModel? in
            if case .serving(let m)? = states[name] { return m }
            return nil
        }
    }

    /// Serving and draining models (what still holds weights and KV blocks), in order.
    var all: [ServedModel] {
        lock.lock(); defer { lock.unlock() }
        return order.compactMap { name -> ServedModel? in
            switch states[name] {
            case .serving(let m)?, .draining(let m)?: return m
            default: return nil
            }
        }
    }

    /// Names of the serving and idle models (what a session may be opened on).
    var sessionNames: Set<String> {
        Set(listed.map { entry -> String in
            switch entry {
            case .served(let m): return m.name
            case .idle(let i): return i.name
            }
        })
    }

    /// Serving and idle models, in order (the `models` op).
    var listed: [Listed] {
        lock.lock(); defer { lock.unlock() }
        return order.compactMap { name -> Listed? in
            switch states[name] {
            case .serving(let m)?: return .served(m)
            case .idle(let i)?: return .idle(i)
            default: return nil
            }
        }
    }

    /// The serving model named `name`, or nil.
    func model(named name: String) -> ServedModel? {
        lock.lock(); defer { lock.unlock() }
        if case .serving(let m)? = states[name] { return m }
        return nil
    }

    /// The serving model named `name`; `model_unavailable` while it loads or drains, else `unknown_model`.
    func lookup(_ name: String) throws(EngineError) -> ServedModel {
        try locked { () throws(EngineError) -> ServedModel in
            switch states[name] {
            case .serving(let m)?: return m
            case .loading?:
                throw EngineError(.modelUnavailable, "model '\(name)' is being loaded; retry once models.load has answered", field: "model")
            case .draining?:
                throw EngineError(.modelUnavailable, "model '\(name)' is being unloaded", field: "model")
            case .idle?:
                throw EngineError(.modelUnavailable, "model '\(name)' was unloaded after keep_alive_s unused and is being loaded again; retry", field: "model")
            case nil:
                throw EngineError(.unknownModel, "no model named '\(name)'", field: "model")
            }
        }
    }

    /// `lookup` for a request that can wait: an idle model registers `waiter` (and the first one is
    /// told to start loading it again, `.wake`).
    func resolve(_ name: String, waiter: @escaping (EngineError?) -> Void) throws(EngineError) -> Resolution {
        lock.lock()
        guard case .idle(var idle)? = states[name] else {
            lock.unlock()
            return .ready(try lookup(name))
        }
        let first = idle.waiters.isEmpty
        idle.waiters.append(waiter)
        states[name] = .idle(idle)
        lock.unlock()
        return first ? .wake(idle) : .waiting
    }

    /// keep_alive: `m` (serving, with an origin) becomes idle; false when it is not serving as its name.
    func makeIdle(_ m: ServedModel, keepAliveSeconds: Double?, lastUsedAt: Double) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard case .serving(let s)? = states[m.name], s === m, let origin = m.origin else { return false }
        states[m.name] = .idle(IdleModel(name: m.name, origin: origin, keepAliveSeconds: keepAliveSeconds, info: m.info,
                                         lastUsedAt: lastUsedAt))
        return true
    }

    /// The end of loading an idle model again: `m` serves (nil: the load failed, it stays idle).
    /// Returns the waiters to tell.
    func finishWake(_ name: String, with m: ServedModel?) -> [(EngineError?) -> Void] {
        lock.lock(); defer { lock.unlock() }
        guard case .idle(var idle)? = states[name] else { return [] }
        let waiters = idle.waiters
        idle.waiters = []
        states[name] = m.map { State.serving($0) } ?? State.idle(idle)
        return waiters
    }

    /// Forgets an idle model (unload, SIGHUP): true when `name` was idle; `model_unavailable` while it
    /// is being loaded again.
    func removeIdle(_ name: String) throws(EngineError) -> Bool {
        try locked { () throws(EngineError) -> Bool in
            guard case .idle(let idle)? = states[name] else { return false }
            guard idle.waiters.isEmpty else {
                throw EngineError(.modelUnavailable, "model '\(name)' is being loaded again (keep_alive); retry", field: "name")
            }
            states[name] = nil
            order.removeAll { $0 == name }
            return true
        }
    }

    /// A new keep_alive for the idle model `name` (SIGHUP); false when it is not idle.
    func setIdleKeepAlive(_ name: String, seconds: Double?) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard case .idle(var idle)? = states[name] else { return false }
        idle.keepAliveSeconds = seconds
        states[name] = .idle(idle)
        return true
    }

    /// Reserves `name` for a load; `model_exists` when the name is loading, serving or draining.
    func reserve(_ name: String) throws(EngineError) {
        try locked { () throws(EngineError) in
            switch states[name] {
            case nil:
                states[name] = .loading
                order.append(name)
            case .loading?:
                throw EngineError(.modelExists, "model '\(name)' is already being loaded", field: "name")
            case .serving?:
                throw EngineError(.modelExists, "model '\(name)' is already served; unload it first", field: "name")
            case .draining?:
                throw EngineError(.modelExists, "model '\(name)' is still being unloaded; retry once models.unload has answered", field: "name")
            case .idle?:
                throw EngineError(.modelExists, "model '\(name)' is served (unloaded after keep_alive_s, loaded again at its next request); unload it first", field: "name")
            }
        }
    }

    /// A reserved name whose load failed: free again.
    func cancelReservation(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        guard case .loading? = states[name] else { return }
        states[name] = nil
        order.removeAll { $0 == name }
    }

    /// A loaded model takes its reserved name.
    func install(_ m: ServedModel) {
        lock.lock(); defer { lock.unlock() }
        if states[m.name] == nil { order.append(m.name) }
        states[m.name] = .serving(m)
    }

    /// `m` serves under its name in place of the model serving there now (returned, for draining);
    /// nil when the name served nothing (then `m` is simply added).
    func replace(with m: ServedModel) -> ServedModel? {
        lock.lock(); defer { lock.unlock() }
        var old: ServedModel? = nil
        switch states[m.name] {
        case .serving(let o)?: old = o
        case nil: order.append(m.name)
        default: break
        }
        states[m.name] = .serving(m)
        return old
    }

    /// Starts unloading `name`: `unknown_model` unless it serves (a second unload of a draining name
    /// is `model_unavailable`).
    func beginDrain(_ name: String) throws(EngineError) -> ServedModel {
        try locked { () throws(EngineError) -> ServedModel in
            switch states[name] {
            case .serving(let m)?:
                states[name] = .draining(m)
                return m
            case .draining?:
                throw EngineError(.modelUnavailable, "model '\(name)' is already being unloaded", field: "name")
            case .loading?:
                throw EngineError(.modelUnavailable, "model '\(name)' is being loaded; unload it once models.load has answered", field: "name")
            case .idle?:
                throw EngineError(.modelUnavailable, "model '\(name)' was unloaded after keep_alive_s unused; retry", field: "name")
            case nil:
                throw EngineError(.unknownModel, "no model named '\(name)'", field: "name")
            }
        }
    }

    /// The end of a drain: the name is gone.
    func remove(_ m: ServedModel) {
        lock.lock(); defer { lock.unlock() }
        guard case .draining(let d)? = states[m.name], d === m else { return }
        states[m.name] = nil
        order.removeAll { $0 == m.name }
    }
}
