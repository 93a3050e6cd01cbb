// ScoreWork — the log-probability of every input token under the model (and, if asked, the top
// alternatives per position). All of its positions' logits come back, chunk by chunk; a session's
// history is context and is not scored. The answer (perplexity, the result value) is built on the
// request's output queue, off the compute thread.
import Foundation
import GPT2Core

final class ScoreWork: SequenceWork {
    let request: ScoringRequest
    private let completion: @Sendable (Result<ScoreResult, EngineError>) -> Void
    private let output = OutputQueue()
    /// Index in `context` of the first scored token.
    private var scoreStart = 0
    /// Log-probabilities of context[scoreStart...], filled as rows come back.
    private var logprobs: [Double?] = []
    private var top: [[RankedToken]?] = []

    init(request: ScoringRequest, completion: @escaping @Sendable (Result<ScoreResult, EngineError>) -> Void) {
        self.request = request
        self.completion = completion
    }

    var input: Prompt { request.prompt }
    var sessionID: String? { request.session }
    var textField: String { "text" }

    /// The row before the first scored token predicts it: computing starts there.
    func admit(_ job: Job, historyCount: Int, config: GPT2Config) throws(EngineError) -> (firstNeeded: Int, computes: Bool) {
        scoreStart = historyCount
        return (max(0, historyCount - 1), true)
    }

    func requests(_ job: Job, cache: KVCache, take: Int) -> [ForwardRequest] {
        [ForwardRequest(cache: cache, tokens: Array(job.pending[..<take]), logits: .all)]
    }

    func advance(_ job: Job, cache: KVCache, taken: Int, results: ArraySlice<ForwardResult>, engine: Engine) -> StepOutcome {
        let result = results.first!
        let firstPosition = cache.count - taken  // position of the first token just computed
        job.pending.removeFirst(taken)
        let V = job.model.model.config.vocabSize
        for r in 0..<taken {
            let target = firstPosition + r + 1  // the token this row predicts
            guard target >= scoreStart && target < job.context.count else { continue }
            let row = Array(result.logitsRow(r, vocabSize: V))
            let lse = Sampling.logSumExp(row)
            logprobs.append(Sampling.logSoftmax(row, at: Int(job.context[target]), logSumExp: lse))
            if request.topLogprobs > 0 { top.append(Self.top(row, request.topLogprobs, logSumExp: lse)) }
        }
        return job.pending.isEmpty ? .complete : .continues
    }

    /// The `n` most likely tokens of a logits row, with their log-probabilities.
    private static func top(_ row: [Float], _ n: Int, logSumExp lse: Double) -> [RankedToken] {
        Logprobs.top(row, count: n, logSumExp: lse).map { RankedToken(token: Int($0.token), logprob: $0.logprob.isFinite ? $0.logprob : nil) }
    }

    func restart() { logprobs = []; top = [] }

    func result(_ job: Job, end: Double) -> WorkResult {
        let (scored, logprobs, top, fromStart, wantsTop) = (Array(job.context[scoreStart...]), logprobs, top, scoreStart == 0, request.topLogprobs > 0)
        let (completion, output) = (completion, output)
        return WorkResult(completionTokens: 0) {
            output.async {
                var lps: [Double?] = fromStart ? [nil] : []
                lps += logprobs
                var tops: [[RankedToken]?]? = nil
                if wantsTop { tops = (fromStart ? [nil] : []) + top }
                let finite = lps.compactMap { $0 }.filter { $0.isFinite }
                let ppl: Double? = finite.isEmpty ? nil : Foundation.exp(-finite.reduce(0, +) / Double(finite.count))
                completion(.success(ScoreResult(tokens: scored.map(Int.init), logprobs: lps.map { $0.flatMap { $0.isFinite ? $0 : nil } },
                                                perplexity: ppl.flatMap { $0.isFinite ? $0 : nil }, topLogprobs: tops)))
            }
        }
    }

    func deliver(_ error: EngineError) {
        let (completion, output) = (completion, output)
        output.async { completion(.failure(error)) }
    }
}
