// Job — the engine's bookkeeping of one unit of work: who asked, the sequence being computed, its
// KV cache while it runs, and where it is in its life. What the work computes and answers is its
// `work` (a SequenceWork). Owned by the engine thread once admitted; only `cancelReason` is touched
// from other threads (under the engine's lock).
import Foundation
import GPT2Core
import GPT2Tokenizer

final class Job {
    let key: JobKey
    let client: ClientIdentity
    let model: ServedModel
    let work: any SequenceWork
    let submittedAt: Double
    /// Set by cancel/cancelAll/shutdown (under Engine.lock); the scheduler ends the job at its next step.
    var cancelReason: EngineError?

    /// Where the job is in its life (one value, changed only by the engine: submission, admission,
    /// the ending's bookkeeping).
    enum Phase {
        /// Registered (answers `cancel`, counts as in flight): its text is being tokenized, it waits
        /// in the inbox, it is being admitted, or — a group follower — it waits for its leader's prompt.
        case submitted
        /// Admitted: on the compute thread, in `active`, computing in its cache (the job's own, or a
        /// leased session's).
        case running(KVCache)
        /// Its bookkeeping is done (session handed back, counters, forgotten); it ends only once.
        case ended
    }

    /// Whether the job answers for the request in the counters, or is one more sequence of it.
    enum Role: Equatable {
        /// The request (a group's leader, a task's first sequence, or the only job).
        case request
        /// Another sequence of a num_return_sequences group or of a task request.
        case member
    }

    let role: Role
    var phase = Phase.submitted
    /// Admission order (engine thread): preemption picks the newest job first.
    var admission = 0
    var startedAt: Double = 0
    var session: SessionStore.Session?
    /// Every token of the sequence so far (session history + input + generated).
    var context: [Int32] = []
    /// The work's text input tokenized (set before the job is queued).
    var textTokens: [Int32] = []
    /// Tokens of `context` not yet in the cache: fed by the next steps.
    var pending: [Int32] = []
    var promptTokens = 0
    var cachedTokens = 0

    init(key: JobKey, client: ClientIdentity, model: ServedModel, work: any SequenceWork, role: Role = .request) {
        self.key = key; self.client = client; self.model = model; self.work = work; self.role = role
        submittedAt = Engine.now()
    }

    /// The KV cache of a running job (nil before admission and after the end).
    var cache: KVCache? {
        if case .running(let c) = phase { return c }
        return nil
    }

    var isRunning: Bool { cache != nil }
    var hasEnded: Bool { if case .ended = phase { return true }; return false }
    var isSubmitted: Bool { if case .submitted = phase { return true }; return false }

    /// The request's text input, when it has one (tokenized off the compute thread into `textTokens`).
    var textInput: String? {
        if case .text(let t) = work.input { return t }
        return nil
    }
}
