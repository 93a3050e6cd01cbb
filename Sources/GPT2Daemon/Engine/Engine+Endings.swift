// Engine+Endings — how a job ends: with an error (`finish`), with its result (`complete`, once its
// session's new history is written when there is a state folder), and the bookkeeping every ending
// shares (`retire`: session hand-back, prefix caching, counters, metrics, forgetting the job).

import Foundation

extension Engine {
    /// Ends a job with an error (any thread before admission; the engine thread after).
    func finish(_ job: Job, error: EngineError, counted: Bool = true) {
        job.work.stopSiblings(of: job, cause: error, engine: self)
        retire(job, completion: 0, failed: true, counted: counted)
        job.work.deliver(error)
    }

    /// A job ran to its end: report the result (engine thread) — once its session's new history is
    /// written, when there is a state folder: the writer thread hands the result on (or
    /// `storage_unavailable`), the compute thread goes on at once.
    func complete(_ job: Job) {
        let result = job.work.result(job, end: Engine.now())
        let write = retire(job, completion: result.completionTokens)
        if job.role == .request, let t = result.timing { metrics.generationTimed(model: job.model.name, timing: t, tokens: result.completionTokens) }
        SessionStore.afterWrite(write) { [self, work = job.work] failure in
            guard let failure else { return result.deliver() }
            cond.lock(); counters.errorsTotal += 1; cond.unlock()
            work.deliver(failure)
        }
    }

    /// Bookkeeping common to every ending: session hand-back, prefix caching, counters, forget the job.
    /// Returns the ticket of the session's write (nil: no session, or no state folder).
    @discardableResult
    func retire(_ job: Job, completion: Int, failed: Bool = false, counted: Bool = true) -> WriteTicket? {
        var write: WriteTicket? = nil
        let cache = job.cache  // nil unless it was running
        job.phase = .ended
        if let s = job.session {
            // The session keeps everything the client has seen and the cache what was computed; a
            // job refused during admission (it never ran) leaves the session as it was.
            if let cache { write = sessions.release(s, tokens: job.context, cache: cache) } else { write = sessions.release(s, tokens: s.tokens, cache: s.cache) }
            job.session = nil
        } else if let cache, job.work.leavesPrefix, cache.count > 0 {
            prefixCache.store(owner: job.client.principal, model: job.model.name, tokens: Array(job.context[..<cache.count]), cache: cache)
        }
        job.work.dropCaches()
        job.pending = []
        if cache != nil { endedInActive += 1 }  // compactActive() drops it (one pass per step, not one per job)
        cond.lock()
        if jobsByKey[job.key] === job { jobsByKey[job.key] = nil }
        liveJobs[ObjectIdentifier(job)] = nil
        userLoads.release(ObjectIdentifier(job))
        if job.role == .request {
            counters.requestsTotal += 1
            if counted || !failed { counters.activeJobs -= 1 }
            if failed { counters.errorsTotal += 1 }
        }
        if !failed {
            counters.promptTokens += job.role == .request ? job.promptTokens : 0
            counters.completionTokens += completion
            counters.cachedTokens += job.role == .request ? job.cachedTokens : 0
            userLoads.count(job.client.principal, prompt: job.role == .request ? job.promptTokens : 0, completion: completion,
                            cached: job.role == .request ? job.cachedTokens : 0)
        }
        cond.unlock()
        if !failed {
            metrics.requestEnded(model: job.model.name, promptTokens: job.role == .request ? job.promptTokens : 0,
                                 completionTokens: completion, cachedTokens: job.role == .request ? job.cachedTokens : 0)
        }
        return write
    }
}
