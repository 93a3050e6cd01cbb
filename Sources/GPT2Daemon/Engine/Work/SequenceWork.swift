// SequenceWork — what one unit of work (a generation sequence, a beam group, a scoring, a task's
// hidden-state sequence) tells the engine and does with what the engine computes for it.
//
// The engine owns the shared bookkeeping of every job (the `Job`: context, pending tokens, the KV
// cache while it runs, session lease, counters) and never asks which kind of work it holds: it asks
// the work for its input at admission, for each step's forward rows, hands it the rows' logits or
// hidden states, and lets it build its answer or deliver an error. One conforming type per kind,
// each in its own file (GenerationWork, BeamWork, ScoreWork, HiddenWork).
import GPT2Core

/// What a step's results did to a unit of work.
enum StepOutcome {
    /// It has more to compute (`job.pending` says what).
    case continues
    /// It is complete: the engine retires it and delivers `result`.
    case complete
    /// It cannot go on (e.g. the KV budget cannot hold its sequences): the engine fails it.
    case failed(EngineError)
}

/// A finished work's answer: how many tokens it generated (for the counters) and how to hand its
/// result over (called after the engine's bookkeeping, so counters are current when a client sees it).
struct WorkResult {
    var completionTokens: Int
    /// A generated sequence's timing (time-to-first-token and per-token metrics); nil for other work.
    var timing: GenerationTiming? = nil
    var deliver: () -> Void
}

protocol SequenceWork: AnyObject {
    /// The request's input (text is tokenized off the compute thread into `Job.textTokens`).
    var input: Prompt { get }
    /// The session the request continues, if any (its history precedes the input).
    var sessionID: String? { get }
    /// Whether admission may start from a cached prefix of this user's (else from the session's
    /// cache or an empty one).
    var usesPrefixCache: Bool { get }
    /// Whether the finished job's cache may serve later requests as a cached prefix.
    var leavesPrefix: Bool { get }
    /// The field named when a text input tokenizes to nothing ("prompt" or "text").
    var textField: String { get }
    /// How many tokens each of its sequences may generate (0: it only reads its input) and how many
    /// sequences it runs at once: what the per-user ledger reserves at submission (UserLoad.swift).
    var generatesAtMost: Int { get }
    var parallelSequences: Int { get }

    /// Admission: `job.context` (session history + input) is set and fits n_positions. Checks and
    /// fits the work to it; returns the first position whose forward row must be computed (earlier
    /// positions may come from a cached prefix) and whether there is anything to compute at all.
    func admit(_ job: Job, historyCount: Int, config: GPT2Config) throws(EngineError) -> (firstNeeded: Int, computes: Bool)

    /// Whether the work feeds one token per sequence per step (the scheduler runs it every step).
    func isDecoding(_ job: Job) -> Bool

    /// This step's forward rows: `take` of `job.pending` (a prompt chunk) in `cache`, or — for a
    /// beam group — one row per running beam in the beams' own caches.
    func requests(_ job: Job, cache: KVCache, take: Int) -> [ForwardRequest]

    /// Consumes the step's results (one per request of `requests`, same order) after `cache` holds
    /// the step's rows; updates `job.pending`.
    func advance(_ job: Job, cache: KVCache, taken: Int, results: ArraySlice<ForwardResult>, engine: Engine) -> StepOutcome

    /// The output stage of this work told the engine it has news (`Engine.outputChanged`): e.g. a
    /// stop string was found in a generation's text, which ends it at that token. Engine thread.
    func settle(_ job: Job) -> StepOutcome

    /// Preemption dropped the cache: forget what depends on it (partial rows, beams); the engine
    /// feeds `job.context` again.
    func restart()

    /// The answer of a complete work (engine thread; `end` is `Engine.now()`, seconds on the
    /// monotonic clock the job's other times use).
    func result(_ job: Job, end: Double) -> WorkResult

    /// An error ends `job`: tell the other jobs of the same request to stop (before the engine's
    /// bookkeeping of `job`).
    func stopSiblings(of job: Job, cause: EngineError, engine: Engine)

    /// Hands the error to the requester (after the engine's bookkeeping).
    func deliver(_ error: EngineError)

    /// The job ended: drop caches the work holds of its own (beams).
    func dropCaches()
}

extension SequenceWork {
    var usesPrefixCache: Bool { true }
    var leavesPrefix: Bool { true }
    var textField: String { "prompt" }
    var generatesAtMost: Int { 0 }
    var parallelSequences: Int { 1 }
    func isDecoding(_ job: Job) -> Bool { false }
    func settle(_ job: Job) -> StepOutcome { .continues }
    func stopSiblings(of job: Job, cause: EngineError, engine: Engine) {}
    func dropCaches() {}
}
