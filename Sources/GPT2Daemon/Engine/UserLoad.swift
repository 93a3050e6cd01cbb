// UserLoad — per-principal accounting: what each principal has in flight, and the per-user limits
// checked against it at submission — pending requests (queued + running) and in-flight tokens (each
// job's prompt plus the new tokens it may still produce, an upper bound fixed when the request is
// submitted) — plus each principal's token totals (for `stats`, which shows users their own counts).
//
// The ledger is a value type with no lock of its own: the engine keeps one under its `cond` lock.
// A request is reserved once, with the jobs that answer it; it is released when the last of those
// jobs retires (a task request's windows, a num_return_sequences group), so the load of a request
// lasts exactly as long as its work.

/// Per-principal caps (EngineOptions: max_pending_per_user, max_inflight_tokens_per_user).
struct UserLimits: Equatable, Sendable {
    /// Most requests one principal may have queued or running.
    var maxRequests: Int
    /// Most in-flight tokens (Σ prompt + max new tokens over its queued and running jobs).
    var maxTokens: Int
}

/// One principal's load now.
struct UserLoad: Equatable, Sendable {
    /// Requests queued or running.
    var requests = 0
    /// Tokens those requests may still put through the model (their reservation).
    var tokens = 0
}

/// One principal's totals since start (requests that finished without error).
struct UserTotals: Equatable, Sendable {
    var promptTokens = 0
    var completionTokens = 0
    var cachedTokens = 0
}

struct UserLoadLedger {
    private struct Reservation {
        var principal: Principal
        var tokens: Int
        /// Jobs of the request that have not retired yet.
        var remaining: Int
    }

    private(set) var loads: [Principal: UserLoad] = [:]
    /// Open reservations, keyed by the request's lead job.
    private var reservations: [ObjectIdentifier: Reservation] = [:]
    /// Each job of an open reservation → its request's key.
    private var requestOf: [ObjectIdentifier: ObjectIdentifier] = [:]

    /// Token totals per principal (one entry per principal that ever finished a request).
    private(set) var totals: [Principal: UserTotals] = [:]

    /// The load of `principal` (zero when it has nothing in flight).
    func load(of principal: Principal) -> UserLoad { loads[principal] ?? UserLoad() }

    /// The totals of `principal` (zero when it never finished a request).
    func totals(of principal: Principal) -> UserTotals { totals[principal] ?? UserTotals() }

    /// Adds a finished job's tokens to its principal's totals.
    mutating func count(_ principal: Principal, prompt: Int, completion: Int, cached: Int) {
        totals[principal, default: UserTotals()].promptTokens += prompt
        totals[principal, default: UserTotals()].completionTokens += completion
        totals[principal, default: UserTotals()].cachedTokens += cached
    }

    /// Reserves one request of `principal` costing `tokens`, answered by `jobs` (the first is the
    /// request's key), or returns the `overloaded` error naming the per-user limit it would pass.
    /// A request larger than the whole token limit is refused even when the user has nothing else
    /// in flight: it could never be admitted.
    mutating func reserve(_ jobs: [ObjectIdentifier], principal: Principal, tokens: Int, limits: UserLimits) -> EngineError? {
        precondition(!jobs.isEmpty, "a request has at least one job")
        let now = load(of: principal)
        if now.requests >= limits.maxRequests {
            return EngineError(.overloaded,
                "this user has \(now.requests) requests queued or running, the limit per user (max_pending_per_user = \(limits.maxRequests)); retry when some finish")
        }
        if now.tokens + tokens > limits.maxTokens {
            return EngineError(.overloaded,
                "this request may need \(tokens) tokens and this user already has \(now.tokens) in flight; the limit per user is \(limits.maxTokens) (max_inflight_tokens_per_user)")
        }
        let key = jobs[0]
        reservations[key] = Reservation(principal: principal, tokens: tokens, remaining: jobs.count)
        for j in jobs { requestOf[j] = key }
        loads[principal, default: UserLoad()].requests += 1
        loads[principal, default: UserLoad()].tokens += tokens
        return nil
    }

    /// One job retired. The request's load is given back when its last job retires; a job that
    /// belongs to no reservation (refused at submission, or already released) changes nothing.
    mutating func release(_ job: ObjectIdentifier) {
        guard let key = requestOf.removeValue(forKey: job), var r = reservations[key] else { return }
        r.remaining -= 1
        guard r.remaining == 0 else { reservations[key] = r; return }
        reservations[key] = nil
        var l = loads[r.principal] ?? UserLoad()
        l.requests -= 1
        l.tokens -= r.tokens
        loads[r.principal] = l.requests == 0 ? nil : l
    }
}

extension Job {
    /// The tokens this job may put through the model, known at submission (its reservation in the
    /// ledger): its input — a text counts its UTF-8 bytes, since a byte-level BPE token is at least
    /// one byte — plus the new tokens it may generate (max_new_tokens, or its default when
    /// unset), at most n_positions per sequence; a beam search counts each of its beams.
    var tokenReservation: Int {
        let nPositions = model.model.config.nPositions
        let inputSize: Int
        switch work.input {
        case .tokens(let ids): inputSize = ids.count
        case .text(let t): inputSize = t.utf8.count
        }
        return min(nPositions, inputSize + work.generatesAtMost) * work.parallelSequences
    }
}
