// Fair scheduling between principals without a model: FairOrder's turns, and Scheduler.plan taking
// prompt chunks by those turns — one user's 100 queued prompts put one of theirs, not 100, ahead of
// another user's single prompt, while each user's own prompts stay first in, first out.
import Testing
@testable import GPT2Daemon

/// Views of runnable sequences whose owners are `owners` (admission = position), ranked by `fair`.
private func fairViews(_ owners: [Character], pending: [Int], decoding: Set<Int> = [],
                       fair: FairOrder<Character> = FairOrder()) -> [ScheduledSequence] {
    let turns = fair.ranks(owners: owners, admissions: Array(owners.indices))
    return owners.indices.map { i in
        ScheduledSequence(id: i, model: 0, admission: i, pending: pending[i], decoding: decoding.contains(i), turn: turns[i])
    }
}

@Suite struct FairOrderTests {
    @Test func everyOwnersOldestComesBeforeAnyonesSecond() {
        // Round 0: A(1), B(4), C(6); round 1: A(2); round 2: A(3); round 3: A(5).
        #expect(FairOrder<Character>.ranks(owners: Array("AAABAC"), admissions: [1, 2, 3, 4, 5, 6]) == [0, 3, 4, 1, 5, 2])
        // Admission decides age, not position in the list.
        #expect(FairOrder<Character>.ranks(owners: Array("ABAB"), admissions: [9, 8, 1, 2]) == [3, 2, 0, 1])
        #expect(FairOrder<String>.ranks(owners: [], admissions: []) == [])
    }

    @Test func withinARoundWhoeverWasServedLeastRecentlyGoesFirst() {
        // A was served at step 5, B at step 2, C never: C, B, A — whatever their admissions.
        #expect(FairOrder<Character>.ranks(owners: Array("ABC"), admissions: [1, 2, 3], lastServed: ["A": 5, "B": 2]) == [2, 1, 0])
        var fair = FairOrder<Character>()
        fair.record(served: ["A"], present: ["A", "B"])
        #expect(fair.ranks(owners: Array("AB"), admissions: [1, 2]) == [1, 0])
        fair.record(served: ["B"], present: ["A", "B"])
        #expect(fair.ranks(owners: Array("AB"), admissions: [1, 2]) == [0, 1])
        // A principal with nothing runnable is forgotten.
        fair.record(served: [], present: ["B"])
        #expect(fair.lastServed == ["B": 2])
    }

    @Test func anotherUsersSinglePromptIsPlannedInTheFirstStep() throws {
        // A: 100 queued prompts of 30 tokens (admitted first); B: one of 30. 64 tokens per step.
        let owners = Array(repeating: Character("A"), count: 100) + ["B"]
        let views = fairViews(owners, pending: Array(repeating: 30, count: 101))
        let plan = try #require(Scheduler.plan(views, modelCount: 1, nextModel: 0, maxBatchTokens: 64))
        #expect(plan.rows == [.init(id: 0, take: 30), .init(id: 100, take: 30), .init(id: 1, take: 4)])
        // Without turns (all 0) the order is plain FIFO and B waits behind all of A's prompts.
        let fifo = views.map { v -> ScheduledSequence in var v = v; v.turn = 0; return v }
        let plain = try #require(Scheduler.plan(fifo, modelCount: 1, nextModel: 0, maxBatchTokens: 64))
        #expect(!plain.rows.contains { $0.id == 100 })
    }

    @Test func promptsFinishRoundRobinOverUsersAndFIFOWithinOne() throws {
        // One whole prompt per step: A has 5 queued, then B and C one each.
        var owners = Array("AAAAABC")
        var pending = Array(repeating: 64, count: owners.count)
        var ids = Array(owners.indices)
        var finished: [Int] = []
        var fair = FairOrder<Character>()
        while !ids.isEmpty {
            let views = fairViews(owners, pending: pending, fair: fair).map { v -> ScheduledSequence in var v = v; v.id = ids[v.id]; return v }
            let plan = try #require(Scheduler.plan(views, modelCount: 1, nextModel: 0, maxBatchTokens: 64))
            #expect(plan.rows.count == 1)
            let k = try #require(ids.firstIndex(of: plan.rows[0].id))
            finished.append(ids[k])
            fair.record(served: [owners[k]], present: Set(owners))
            owners.remove(at: k); pending.remove(at: k); ids.remove(at: k)
        }
        // A's oldest, then B and C (waiting, never served), then A's others in their own order.
        #expect(finished == [0, 5, 6, 1, 2, 3, 4])
    }

    @Test func decodeRowsStillComeFirstWhateverTheTurn() throws {
        let views = fairViews(Array("AAB"), pending: [1, 1, 20], decoding: [0, 1])
        let plan = try #require(Scheduler.plan(views, modelCount: 1, nextModel: 0, maxBatchTokens: 8))
        #expect(plan.rows == [.init(id: 0, take: 1), .init(id: 1, take: 1), .init(id: 2, take: 6)])
    }
}
