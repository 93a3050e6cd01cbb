// The scheduler's decisions on hand-made sequences (no model): decode first, FIFO prompt chunks within
// max_batch_tokens, round robin between models, the memory policy's choice, and — in a small simulation
// of a KV budget — that the oldest sequence progresses every step and every sequence finishes.
import Testing
@testable import GPT2Daemon

private func seq(_ id: Int, model: Int = 0, admission: Int? = nil, pending: Int, decoding: Bool = false) -> ScheduledSequence {
    ScheduledSequence(id: id, model: model, admission: admission ?? id, pending: pending, decoding: decoding)
}

@Suite struct SchedulerTests {
    @Test func decodeRowsComeFirstThenPromptChunksOldestFirstWithinTheBudget() throws {
        let s = [seq(0, admission: 5, pending: 30), seq(1, admission: 9, pending: 1, decoding: true),
                 seq(2, admission: 3, pending: 30), seq(3, admission: 7, pending: 30),
                 seq(4, admission: 8, pending: 1, decoding: true)]
        let plan = try #require(Scheduler.plan(s, modelCount: 1, nextModel: 0, maxBatchTokens: 64))
        // Decodes (oldest first) take 2 of 64; prompts by admission: #2 (3) gets 30, #0 (5) 30, #3 (7) the last 2.
        #expect(plan.rows == [.init(id: 4, take: 1), .init(id: 1, take: 1),
                              .init(id: 2, take: 30), .init(id: 0, take: 30), .init(id: 3, take: 2)])
        #expect(plan.model == 0 && plan.nextModel == 0)
    }

    @Test func everyDecodingSequenceAdvancesEvenPastTheBudget() throws {
        let s = (0..<6).map { seq($0, pending: 1, decoding: true) } + [seq(6, pending: 10)]
        let plan = try #require(Scheduler.plan(s, modelCount: 1, nextModel: 0, maxBatchTokens: 4))
        #expect(plan.rows.map(\.id) == [0, 1, 2, 3, 4, 5])
        #expect(plan.rows.allSatisfy { $0.take == 1 })
    }

    @Test func aLongPromptIsChunked() throws {
        var pending = 100
        var chunks: [Int] = []
        while pending > 0 {
            let plan = try #require(Scheduler.plan([seq(0, pending: pending)], modelCount: 1, nextModel: 0, maxBatchTokens: 48))
            chunks.append(plan.rows[0].take)
            pending -= plan.rows[0].take
        }
        #expect(chunks == [48, 48, 4])
    }

    @Test func modelsTakeTurnsAndIdleModelsAreSkipped() throws {
        let s = [seq(0, model: 0, pending: 5), seq(1, model: 2, pending: 5), seq(2, model: 0, pending: 1, decoding: true)]
        var next = 0
        var order: [Int] = []
        for _ in 0..<4 {
            let plan = try #require(Scheduler.plan(s, modelCount: 3, nextModel: next, maxBatchTokens: 64))
            #expect(plan.rows.allSatisfy { r in s.first { $0.id == r.id }!.model == plan.model })
            order.append(plan.model)
            next = plan.nextModel
        }
        #expect(order == [0, 2, 0, 2])  // model 1 has nothing to do
        #expect(Scheduler.plan([], modelCount: 3, nextModel: 0, maxBatchTokens: 64) == nil)
        #expect(Scheduler.plan([seq(0, pending: 0)], modelCount: 1, nextModel: 0, maxBatchTokens: 64) == nil)
    }

    @Test func shortagePolicyEvictsThenPreemptsTheNewestNewerHolderElseWaitsOrRefuses() {
        let old = seq(0, admission: 1, pending: 1, decoding: true)
        let mid = seq(1, admission: 2, pending: 1, decoding: true)
        let new = seq(2, admission: 3, pending: 8)
        // Caches that only speed things up go first, whoever is in need.
        #expect(Scheduler.resolveShortage(needy: old, holders: [old, mid, new], canEvict: true) == .evictCache)
        // Then the newest holder, if newer than the one in need.
        #expect(Scheduler.resolveShortage(needy: old, holders: [old, mid, new], canEvict: false) == .preempt(id: 2))
        #expect(Scheduler.resolveShortage(needy: mid, holders: [old, mid, new], canEvict: false) == .preempt(id: 2))
        // The newest in need waits for older ones…
        #expect(Scheduler.resolveShortage(needy: new, holders: [old, mid, new], canEvict: false) == .skip)
        #expect(Scheduler.resolveShortage(needy: new, holders: [old], canEvict: false) == .skip)
        // …and is refused when nothing else holds memory (it cannot fit even alone).
        #expect(Scheduler.resolveShortage(needy: new, holders: [new], canEvict: false) == .refuse)
        #expect(Scheduler.resolveShortage(needy: new, holders: [], canEvict: false) == .refuse)
    }

    /// Sequences that prefill then decode, under a budget of whole KV blocks: plan, allocate row by
    /// row, settle shortages by the policy (no cache to evict), apply. The oldest unfinished sequence
    /// computes at least one token every step; all finish; preemption happened.
    @Test func underMemoryPressureTheOldestAlwaysProgressesAndAllFinish() throws {
        struct Sim { var prompt: Int; var generate: Int; var computed = 0; var generated = 0
            var context: Int { prompt + generated }
            var pending: Int { context - computed }
            var done: Bool { generated == generate && pending <= 1 }
        }
        let blockTokens = 4, budgetBlocks = 12
        func blocks(_ n: Int) -> Int { (n + blockTokens - 1) / blockTokens }
        var sims = [Sim(prompt: 10, generate: 12), Sim(prompt: 14, generate: 6), Sim(prompt: 6, generate: 16), Sim(prompt: 12, generate: 8)]
        var finished = Set<Int>()
        var preemptions = 0, steps = 0
        while finished.count < sims.count {
            steps += 1
            #expect(steps < 500, "no progress")
            if steps >= 500 { return }
            let live = sims.indices.filter { !finished.contains($0) }
            let views = live.map { i in
                ScheduledSequence(id: i, model: 0, admission: i, pending: sims[i].pending,
                                  decoding: sims[i].generated > 0 && sims[i].pending == 1)
            }
            var rows = try #require(Scheduler.plan(views, modelCount: 1, nextModel: 0, maxBatchTokens: 16)).rows
            let oldest = live.min()!
            let before = sims[oldest].computed
            while true {
                var used = live.reduce(0) { $0 + blocks(sims[$1].computed) }
                var short: Int? = nil
                for (k, r) in rows.enumerated() {
                    used += blocks(sims[r.id].computed + r.take) - blocks(sims[r.id].computed)
                    if used > budgetBlocks { short = k; break }
                }
                guard let k = short else { break }
                let needy = views.first { $0.id == rows[k].id }!
                let holders = views.filter { sims[$0.id].computed > 0 }
                switch Scheduler.resolveShortage(needy: needy, holders: holders, canEvict: false) {
                case .evictCache: Issue.record("nothing to evict"); return
                case .preempt(let v):
                    sims[v].computed = 0
                    rows.removeAll { $0.id == v }
                    preemptions += 1
                case .skip: rows.remove(at: k)
                case .refuse: Issue.record("a sequence that fits alone was refused"); return
                }
            }
            for r in rows {
                sims[r.id].computed += r.take
                // A computed last position yields the next token (fed by the next step).
                if sims[r.id].pending == 0 && sims[r.id].generated < sims[r.id].generate { sims[r.id].generated += 1 }
                if sims[r.id].done { finished.insert(r.id) }
            }
            #expect(sims[oldest].computed > before || finished.contains(oldest), "step \(steps): the oldest sequence stalled")
        }
        #expect(preemptions > 0)
    }
}
