// HiddenWork — one sequence of a task request (classify, tag, qa, choose, embed): its final hidden
// states (after ln_f), the last row or every row, gathered by its HiddenBatch, which answers the
// request once every sequence is in (the first error wins).
import Foundation
import GPT2Core

final class HiddenWork: SequenceWork {
    let sequence: HiddenSequence
    let batch: HiddenBatch
    let index: Int
    /// Hidden rows gathered so far (rows × C floats).
    private var collected: [Float] = []

    init(sequence: HiddenSequence, batch: HiddenBatch, index: Int) { self.sequence = sequence; self.batch = batch; self.index = index }

    var input: Prompt { .tokens(sequence.tokens.map(Int.init)) }
    var sessionID: String? { nil }

    /// Hidden rows come only from positions computed in this request.
    func admit(_ job: Job, historyCount: Int, config: GPT2Config) throws(EngineError) -> (firstNeeded: Int, computes: Bool) {
        (sequence.rows == .all ? 0 : job.context.count - 1, true)
    }

    func requests(_ job: Job, cache: KVCache, take: Int) -> [ForwardRequest] {
        let finishesPrompt = take == job.pending.count
        let hidden: RowSelection = sequence.rows == .all ? .all : (finishesPrompt ? .last : .none)
        return [ForwardRequest(cache: cache, tokens: Array(job.pending[..<take]), logits: .none, hidden: hidden)]
    }

    func advance(_ job: Job, cache: KVCache, taken: Int, results: ArraySlice<ForwardResult>, engine: Engine) -> StepOutcome {
        job.pending.removeFirst(taken)
        collected += results.first!.hidden
        return job.pending.isEmpty ? .complete : .continues
    }

    func restart() { collected = [] }

    func result(_ job: Job, end: Double) -> WorkResult {
        let (batch, index, rows) = (batch, index, collected)
        return WorkResult(completionTokens: 0) { batch.collect(index, rows) }
    }

    /// Once per request, not once per failing window: the first failing sequence stops the others.
    func stopSiblings(of job: Job, cause: EngineError, engine: Engine) {
        engine.withLock {
            guard !batch.membersStopped else { return }
            batch.membersStopped = true
            engine.cancelLocked(batch.members.filter { $0 !== job }, reason: cause)
        }
    }

    func deliver(_ error: EngineError) { batch.fail(error) }
}
