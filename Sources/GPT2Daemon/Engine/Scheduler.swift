// Scheduler — the decisions of the compute loop, as pure functions of what is queued and running
// and the budget, so tests drive them with hand-made sequences and no model:
//
//   plan(…)            which model steps next (round robin among models with work) and which rows of
//                      which sequences go through its ONE forward pass: every decoding sequence's token
//                      first, then prompt chunks in fair order (FairOrder's turns: round robin between
//                      principals, FIFO within one) while max_batch_tokens lasts.
//   resolveShortage(…) what to do when the KV budget cannot hold a planned row: free a cache that only
//                      speeds things up (cached prefixes, idle sessions' caches) if there is one, else
//                      preempt the newest running sequence that holds memory if it is newer than the one
//                      in need, else let the one in need sit out this step — or refuse it when nothing
//                      else holds memory (it cannot fit even alone). The oldest sequence always progresses.
//
// The engine owns the work (jobs, caches, the runner) and applies these decisions; the scheduler
// owns no state.

/// What the scheduler sees of one runnable sequence.
struct ScheduledSequence: Equatable, Sendable {
    /// The caller's handle (an index into its own list).
    var id: Int
    /// Index of the sequence's model in the engine's model order.
    var model: Int
    /// Admission order: smaller is older.
    var admission: Int
    /// Tokens waiting to be computed (> 0 for a runnable sequence).
    var pending: Int
    /// Decoding: its prompt is computed and it feeds one token per step.
    var decoding: Bool
    /// Its place in the fair order between principals (FairOrder; 0 = first): prompt chunks are
    /// taken by (turn, admission). All 0: plain admission order.
    var turn: Int = 0
}

/// One step: a model and the rows each chosen sequence contributes to the forward pass.
struct StepPlan: Equatable, Sendable {
    struct Row: Equatable, Sendable {
        var id: Int
        /// How many of the sequence's pending tokens this step computes (a prefix of them).
        var take: Int
    }
    var model: Int
    /// Decode rows first (oldest first), then prompt chunks by turn.
    var rows: [Row]
    /// Where the round robin continues next step.
    var nextModel: Int
}

/// What to do about a row the KV budget cannot hold.
enum ShortageAction: Equatable, Sendable {
    /// Drop one cache that only speeds things up (cached prefix, idle session), then retry.
    case evictCache
    /// Drop this running sequence's cache (recomputed later), then retry without it.
    case preempt(id: Int)
    /// The sequence in need waits for a later step (older ones hold the memory).
    case skip
    /// The sequence in need cannot fit even alone: fail it.
    case refuse
}

enum Scheduler {
    /// The next step, or nil when nothing is runnable. `sequences` are runnable sequences of every
    /// model (pending > 0); `nextModel` is the previous plan's `nextModel` (0 at first).
    static func plan(_ sequences: [ScheduledSequence], modelCount: Int, nextModel: Int, maxBatchTokens: Int) -> StepPlan? {
        guard modelCount > 0 else { return nil }
        var model: Int? = nil
        for i in 0..<modelCount {
            let candidate = (nextModel + i) % modelCount
            if sequences.contains(where: { $0.model == candidate && $0.pending > 0 }) { model = candidate; break }
        }
        guard let m = model else { return nil }
        let mine = sequences.filter { $0.model == m && $0.pending > 0 }
            .sorted { ($0.admission, $0.id) < ($1.admission, $1.id) }
        var budget = maxBatchTokens
        var rows: [StepPlan.Row] = []
        // Every decoding sequence advances each step, whatever the budget says (one token each).
        for s in mine where s.decoding {
            rows.append(.init(id: s.id, take: s.pending))
            budget -= s.pending
        }
        for s in mine.filter({ !$0.decoding }).sorted(by: { ($0.turn, $0.admission, $0.id) < ($1.turn, $1.admission, $1.id) })
        where budget > 0 {
            let n = min(s.pending, budget)
            rows.append(.init(id: s.id, take: n))
            budget -= n
        }
        return StepPlan(model: m, rows: rows, nextModel: (m + 1) % modelCount)
    }

    /// The memory policy for one shortage. `needy` is the sequence whose row did not fit; `holders`
    /// are the running sequences (of any model) that hold KV memory, `needy` included if it does;
    /// `canEvict` says whether a cached prefix or an idle session's cache is left to drop.
    static func resolveShortage(needy: ScheduledSequence, holders: [ScheduledSequence], canEvict: Bool) -> ShortageAction {
        if canEvict { return .evictCache }
        if let victim = holders.max(by: { $0.admission < $1.admission }), victim.admission > needy.admission {
            return .preempt(id: victim.id)
        }
        return holders.contains(where: { $0.id != needy.id }) ? .skip : .refuse
    }
}
