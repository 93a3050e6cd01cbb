// FairOrder — the order in which queued prompt work is taken when it is shared round robin between
// principals (Unix users). The ranking is a pure function, so tests check the order without a model;
// the little state it needs (when each principal last had a prompt chunk planned) is this value,
// kept by the engine and updated after each plan.
//
// Order: a principal's k-th oldest runnable sequence (by admission) belongs to round k. Within a
// round, the principal served least recently goes first (never served before everyone), then the
// older admission. So every principal's oldest prompt comes before anyone's second, and a principal
// that just had a chunk goes behind the ones waiting: one user with 100 queued prompts puts one of
// them ahead of another user's single prompt, not 100. Within one user the order stays FIFO.
// Decode rows are not ordered here (every decoding sequence advances each step anyway).

struct FairOrder<Owner: Hashable> {
    /// Step number at which each principal last had prompt rows planned.
    private(set) var lastServed: [Owner: Int] = [:]
    private var step = 0

    /// Each sequence's place in the fair order (0 = first), parallel to `owners`; `admissions`
    /// gives their ages (smaller is older), `lastServed` when each owner last had prompt rows
    /// planned (absent: never).
    static func ranks(owners: [Owner], admissions: [Int], lastServed: [Owner: Int] = [:]) -> [Int] {
        precondition(owners.count == admissions.count, "one admission per owner entry")
        let byAge = owners.indices.sorted { (admissions[$0], $0) < (admissions[$1], $1) }
        var seen: [Owner: Int] = [:]
        var round = [Int](repeating: 0, count: owners.count)
        for i in byAge {
            round[i] = seen[owners[i], default: 0]
            seen[owners[i], default: 0] += 1
        }
        func key(_ i: Int) -> (Int, Int, Int, Int) { (round[i], lastServed[owners[i]] ?? Int.min, admissions[i], i) }
        let order = owners.indices.sorted { key($0) < key($1) }
        var ranks = [Int](repeating: 0, count: owners.count)
        for (place, i) in order.enumerated() { ranks[i] = place }
        return ranks
    }

    /// The ranks of `owners` given what was served so far.
    func ranks(owners: [Owner], admissions: [Int]) -> [Int] {
        Self.ranks(owners: owners, admissions: admissions, lastServed: lastServed)
    }

    /// Records one step: `served` had prompt rows planned in it; principals absent from `present`
    /// (nothing runnable) are forgotten, so the table stays as small as the queue.
    mutating func record(served: some Sequence<Owner>, present: Set<Owner>) {
        step += 1
        lastServed = lastServed.filter { present.contains($0.key) }
        for o in served { lastServed[o] = step }
    }
}
