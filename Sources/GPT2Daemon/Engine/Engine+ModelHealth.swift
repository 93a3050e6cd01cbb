// Engine+ModelHealth — the engine's side of ModelHealth (see ModelHealth.swift): three hooks, and
// nothing else in the engine knows about damaged weights.
//
//   admission (`setUp`)     requireWhole: model_unavailable while the model is unavailable, after
//                           trying to restore it (at most once a second); a change found here makes it
//                           unavailable first.
//   step, before forward    weightsAreWhole: a truncation seen by fstat stops the pass before any read
//                           past the file's end.
//   step, after forward     weightsAreWhole: a read that faulted (CFaultGuard put zero pages there) →
//                           the pass's results are dropped, never sampled or sent.
//
// Making a model unavailable drops the KV caches of its running jobs (they may hold rows computed
// from damaged weights, and a failed job hands its cache to its session or the prefix cache) and
// ends every live job on it with `model_unavailable` at the next reap, as a cancel would.

import Foundation
import Logging

extension Engine {
    /// Seconds between restore attempts that requests trigger.
    static let restoreInterval = 1.0

    /// True when a weight file of `m` changed in place (fstat) or a read of it faulted.
    func weightsChanged(_ m: ServedModel) -> Bool {
        m.model.weights.mappedFiles.contains { $0.isDamaged || $0.fileChanged() }
    }

    /// Engine thread, around each forward pass of `m`: false when its weights are not whole (the model
    /// is then unavailable and its jobs are ending).
    func weightsAreWhole(_ m: ServedModel) -> Bool {
        if m.health.unavailableReason == nil && !weightsChanged(m) { return true }
        makeUnavailable(m)
        return false
    }

    /// Admission (engine thread): throws `model_unavailable` while `m` is unavailable.
    func requireWhole(_ m: ServedModel) throws {
        if m.health.unavailableReason != nil {
            restore(m, force: false)
        } else if weightsChanged(m) {
            makeUnavailable(m)
        }
        if let reason = m.health.unavailableReason { throw EngineError(.modelUnavailable, reason) }
    }

    /// SIGHUP: tries every unavailable model's files again now. Safe off the engine thread: no job
    /// computes on an unavailable model.
    public func restoreUnavailableModels() {
        for m in registry.all where m.health.unavailableReason != nil { restore(m, force: true) }
    }

    /// Maps `m`'s changed files again when each is whole again (old size and header); marks it
    /// serving when all are. Rate-limited unless `force`.
    private func restore(_ m: ServedModel, force: Bool) {
        guard m.health.shouldAttemptRestore(now: Engine.now(), interval: Self.restoreInterval, force: force) else { return }
        let whole = m.health.restoring {
            m.model.weights.mappedFiles.allSatisfy { f in !(f.isDamaged || f.fileChanged()) || f.restoreIfWhole() }
        }
        guard whole else { return }
        m.health.markServing()
        Logger(label: "gpt2d").notice("model weights whole again; serving", metadata: ["model": "\(m.name)"])
    }

    private func makeUnavailable(_ m: ServedModel) {
        let reason = "model '\(m.name)' is unavailable: a weight file was truncated or overwritten in place "
            + "(replace model files by rename); it serves again once the file is whole"
        if m.health.markUnavailable(reason) {
            Logger(label: "gpt2d").error("weight file changed in place; model unavailable",
                                         metadata: ["model": "\(m.name)"])
        }
        for job in active where job.model === m { job.cache?.reset() }
        cond.lock()
        for job in liveJobs.values where job.model === m && job.cancelReason == nil {
            job.cancelReason = EngineError(.modelUnavailable, reason)
        }
        cond.broadcast()
        cond.unlock()
    }
}
