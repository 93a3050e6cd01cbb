// BeamSearch — transformers' generate(num_beams=N, do_sample=False) (GenerationMixin._beam_search,
// transformers 5.x), token-identical on the test fixtures. `BeamSearchState` is the search as a
// step function (logits of the running beams in, which beams continue out); whoever drives it gives
// every beam its own KVCache and computes all running beams in ONE batched forward call per step
// (`GPT2Runner.beamSearch` alone, the daemon's engine inside its shared batches).
//
// Per step, with t tokens generated so far and K = max(2, 1 + #EOS) · N candidates:
//   1. lp = log_softmax(logits) of each running beam (F32), then the non-sampling processors
//      (repetition penalty, no_repeat_ngram, bad_words, …) applied to lp, as transformers does.
//   2. acc = lp + beam score; the K best (beam, token) pairs over all beams (ties: lower beam·V+token).
//      On the first step only beam 0 exists (transformers gives the copies −1e9).
//   3. A candidate "finishes" when its token is an EOS id or it reaches max_new_tokens.
//   4. Running beams = the N best candidates that did not finish.
//   5. Finished hypotheses: among the N best candidates only (ranks ≥ N are backups), each one that
//      finished enters the pool with score acc / (t+1)^length_penalty, unless the pool is closed
//      (early_stopping=True and all N slots hold finished hypotheses, or the early-stop heuristic
//      already fired); the pool keeps its N best.
//   6. Early-stop heuristic (after the step, t+1 generated): once all N slots are finished, it fires
//      when best_running_acc / L^length_penalty ≤ worst finished score, with L = t+1, or, for
//      early_stopping="never" and length_penalty > 0, L = max_new_tokens. It never un-fires.
//   7. Stop when the heuristic fired, or early_stopping=True and all N slots are finished, or
//      max_new_tokens are generated.
// The result is the best num_return_sequences hypotheses; `score` is transformers' sequences_scores.
// Scores are F32 as in transformers (acc in F32, length penalty divided in F32).
import Foundation

public struct BeamSearchParameters: Sendable, Equatable {
    /// transformers' `early_stopping`.
    public enum EarlyStopping: Sendable, Equatable {
        /// `True`: stop as soon as N finished hypotheses exist.
        case whenNFinished
        /// `False` (the default): stop when the heuristic says no running beam can beat the worst
        /// finished one at the current length.
        case heuristic
        /// `"never"`: the same heuristic at the best possible length (canonical beam search with
        /// length_penalty 0).
        case never
    }

    public var numBeams: Int
    public var lengthPenalty: Float
    public var earlyStopping: EarlyStopping
    public var numReturnSequences: Int
    public var maxNewTokens: Int
    /// Generation ends on any of these (GPT-2: [50256]); empty: only max_new_tokens ends it.
    public var eosTokenIDs: [Int32]
    /// The logits processors to apply to each beam's log-probabilities (only the non-sampling ones:
    /// logit_bias, penalties, no_repeat_ngram, bad_words, min_new_tokens, suppress_tokens; `doSample`
    /// and the warpers are ignored). `eosTokenIDs` above is what bad_words/min_new_tokens use.
    public var processing: SamplingParameters

    /// transformers' defaults: length_penalty 1.0, early_stopping False, one returned sequence.
    public init(numBeams: Int, lengthPenalty: Float = 1, earlyStopping: EarlyStopping = .heuristic,
                numReturnSequences: Int = 1, maxNewTokens: Int = 20, eosTokenIDs: [Int32] = [50256],
                processing: SamplingParameters = SamplingParameters()) {
        self.numBeams = numBeams; self.lengthPenalty = lengthPenalty; self.earlyStopping = earlyStopping
        self.numReturnSequences = numReturnSequences; self.maxNewTokens = maxNewTokens
        self.eosTokenIDs = eosTokenIDs; self.processing = processing
    }

    public func validate() throws {
        guard numBeams >= 2 else { throw SamplingParameterError("num_beams", "has to be at least 2 for beam search (1 is greedy search), but is \(numBeams)") }
        guard numReturnSequences >= 1 && numReturnSequences <= numBeams else {
            throw SamplingParameterError("num_return_sequences", "has to be between 1 and num_beams (\(numBeams)), but is \(numReturnSequences)")
        }
        guard maxNewTokens >= 1 else { throw SamplingParameterError("max_new_tokens", "has to be a positive integer, but is \(maxNewTokens)") }
        guard lengthPenalty.isFinite else { throw SamplingParameterError("length_penalty", "has to be finite, but is \(lengthPenalty)") }
        try processing.validate()
    }

    /// The processors applied to each beam's log-probabilities.
    public func makeProcessors() -> [any LogitsProcessor] {
        var p = processing
        p.doSample = false
        p.eosTokenIDs = eosTokenIDs
        return p.makeProcessors()
    }
}

/// One returned beam.
public struct BeamHypothesis: Sendable, Equatable {
    /// Prompt + generated tokens (the EOS included when it ended the hypothesis).
    public var tokens: [Int32]
    public var promptLength: Int
    /// transformers' `sequences_scores`: Σ log-probabilities (processed) / generated^length_penalty.
    public var score: Float
    /// True when the last token is an EOS id (otherwise max_new_tokens ended it).
    public var endedWithEOS: Bool

    public var generated: ArraySlice<Int32> { tokens[promptLength...] }
}

/// Thrown by `beamSearch` when its `shouldStop` closure asked it to stop.
public struct BeamSearchStopped: Error, Equatable {}

/// The search itself, one step at a time, with no forward pass and no cache: the caller computes the
/// running beams' logits (one row each, `runningTokens` order) and hands them to `advance`, which says
/// which beam each new running beam continues, or that the search is over. The runner's `beamSearch`
/// drives it with its own forward calls; the daemon's engine drives it inside its shared batches.
public struct BeamSearchState {
    /// What one step decided.
    public enum Step: Equatable {
        /// Compute these beams next: `sources[i]` is the index (in the previous `runningTokens`) of
        /// the beam that new beam i continues; its token is the last of `runningTokens[i]`.
        case next(sources: [Int])
        /// The search ended: the best `numReturnSequences` hypotheses, best first.
        case done([BeamHypothesis])
    }

    public let prompt: [Int32]
    public let parameters: BeamSearchParameters
    private let vocabSize: Int
    private let K: Int
    private let processors: [any LogitsProcessor]
    private let eos: Set<Int32>

    private struct Running { var tokens: [Int32]; var score: Float }
    private struct Finished { var tokens: [Int32]; var score: Float }
    private struct Candidate { var acc: Float; var beam: Int; var token: Int }

    /// Step 0: one beam (the prompt); the copies transformers gives −1e9 are left out.
    private var beams = [Running(tokens: [], score: 0)]
    private var finished: [Finished] = []      // best first, at most N
    private var heuristicFired = false
    /// Tokens generated by every running beam (the steps taken).
    public private(set) var generatedCount = 0

    /// Throws the first invalid parameter.
    public init(prompt: [Int32], parameters p: BeamSearchParameters, vocabSize V: Int) throws {
        try p.validate()
        precondition(!prompt.isEmpty, "beam search needs a prompt")
        self.prompt = prompt
        parameters = p
        vocabSize = V
        K = max(2, 1 + p.eosTokenIDs.count) * p.numBeams
        precondition(V >= K, "vocabulary (\(V)) smaller than the \(K) beam candidates")
        processors = p.makeProcessors()
        eos = Set(p.eosTokenIDs)
    }

    /// The generated tokens of each running beam (empty before the first step: the prompt's last row
    /// is the one row to compute).
    public var runningTokens: [[Int32]] { beams.map(\.tokens) }

    /// One step from the logits of every running beam (`rows[b]` for beam b, vocabSize values each).
    public mutating func advance(_ rows: [[Float]]) -> Step {
        precondition(rows.count == beams.count, "one logits row per running beam")
        let p = parameters, N = p.numBeams, V = vocabSize
        let lengthPenalty = Double(p.lengthPenalty)
        // 1–2. Log-probabilities, processors, and the K best continuations over all beams.
        var candidates: [Candidate] = []
        candidates.reserveCapacity(K + 1)
        for (b, beam) in beams.enumerated() {
            var lp = GPT2Runner.logSoftmaxF32(rows[b])
            if !processors.isEmpty {
                processors.process(&lp, context: GenerationContext(history: prompt + beam.tokens, promptLength: prompt.count))
            }
            for token in 0..<V {
                let acc = lp[token] + beam.score
                if candidates.count == K, !(acc > candidates[K - 1].acc) { continue }
                var pos = candidates.count
                while pos > 0 && acc > candidates[pos - 1].acc { pos -= 1 }
                candidates.insert(Candidate(acc: acc, beam: b, token: token), at: pos)
                if candidates.count > K { candidates.removeLast() }
            }
        }
        let t = generatedCount
        let reachesMax = t + 1 >= p.maxNewTokens
        let hits = candidates.map { reachesMax || eos.contains(Int32($0.token)) }

        // 5. Finished hypotheses (before the running beams' scores change anything).
        let poolFull = finished.count == N
        let closed = heuristicFired || (p.earlyStopping == .whenNFinished && poolFull)
        if !closed {
            let divisor = Float(pow(Double(t + 1), lengthPenalty))
            var added = false
            for j in 0..<min(N, candidates.count) where hits[j] {
                let c = candidates[j]
                finished.append(Finished(tokens: beams[c.beam].tokens + [Int32(c.token)], score: c.acc / divisor))
                added = true
            }
            if added {
                // Stable: earlier entries (older hypotheses, then better-ranked candidates) win ties.
                finished = finished.enumerated().sorted { $0.element.score > $1.element.score || ($0.element.score == $1.element.score && $0.offset < $1.offset) }.map(\.element)
                if finished.count > N { finished.removeLast(finished.count - N) }
            }
        }

        // 4. The N best unfinished candidates continue.
        let next = candidates.indices.filter { !hits[$0] }.prefix(N).map { candidates[$0] }
        generatedCount += 1

        // 6. Early-stop heuristic.
        if !heuristicFired && finished.count == N, let best = next.first {
            let length = (p.earlyStopping == .never && p.lengthPenalty > 0) ? p.maxNewTokens : generatedCount
            let bestPossible = best.acc / Float(pow(Double(length), lengthPenalty))
            if !(bestPossible > finished[N - 1].score) { heuristicFired = true }
        }

        // 7. Stop?
        let allDone = finished.count == N && p.earlyStopping == .whenNFinished
        if heuristicFired || allDone || next.isEmpty || generatedCount >= p.maxNewTokens {
            return .done(finished.prefix(p.numReturnSequences).map { f in
                BeamHypothesis(tokens: prompt + f.tokens, promptLength: prompt.count, score: f.score,
                               endedWithEOS: f.tokens.last.map { eos.contains($0) } ?? false)
            })
        }
        beams = next.map { Running(tokens: beams[$0.beam].tokens + [Int32($0.token)], score: $0.acc) }
        return .next(sources: next.map(\.beam))
    }

    /// The caches of the new running beams, from those of the previous ones (`caches[b]` for beam b)
    /// and `sources` from `.next`: a beam's first continuation takes its cache, later ones fork it.
    /// With `keepSources` (step 0: the one source is the caller's prompt cache) every beam forks.
    /// nil when a fork does not fit the KV budget (nothing is changed then but forks made so far,
    /// which are released).
    public static func reorder(_ caches: [KVCache], sources: [Int], keepSources: Bool) -> [KVCache]? {
        var taken = Set<Int>()
        var out: [KVCache] = []
        out.reserveCapacity(sources.count)
        for b in sources {
            if !keepSources && taken.insert(b).inserted {
                out.append(caches[b])
            } else {
                guard let copy = caches[b].fork() else { return nil }
                out.append(copy)
            }
        }
        return out
    }
}

extension GPT2Runner {
    /// Beam search after `prompt`, computed in `cache` (which must be empty or hold a prefix the
    /// prompt continues; on return it holds exactly the prompt). Every beam forks its own cache from
    /// it; all running beams are computed by one batched forward call per step. Returns the best
    /// `numReturnSequences` hypotheses, best first.
    /// `shouldStop` is asked before every step; when it returns true the search throws
    /// `BeamSearchStopped` (cancellation) and every forked cache is released.
    public func beamSearch(prompt: [Int32], parameters p: BeamSearchParameters, cache: KVCache,
                           shouldStop: () -> Bool = { false }) throws -> [BeamHypothesis] {
        var search = try BeamSearchState(prompt: prompt, parameters: p, vocabSize: config.vocabSize)
        // Recompute at least the last prompt row, for its logits.
        if cache.count >= prompt.count { cache.truncate(to: prompt.count - 1) }
        var rows = [try forward([ForwardRequest(cache: cache, tokens: Array(prompt[cache.count...]), logits: .last)])[0].logits]
        var caches = [cache]
        while true {
            switch search.advance(rows) {
            case .done(let hypotheses):
                return hypotheses
            case .next(let sources):
                guard let next = BeamSearchState.reorder(caches, sources: sources, keepSources: search.generatedCount == 1) else {
                    throw ForwardError.kvBudgetExhausted(sequence: 0, neededBlocks: (cache.count + cache.pool.blockTokens - 1) / cache.pool.blockTokens)
                }
                caches = next   // dropped beams release their caches here
                if shouldStop() { throw BeamSearchStopped() }
                let results = try forward(zip(caches, search.runningTokens).map { ForwardRequest(cache: $0, tokens: [$1.last!], logits: .last) })
                rows = results.map(\.logits)
            }
        }
    }

    /// log_softmax in F32 values (the sum in Double), as transformers' F32 log_softmax.
    static func logSoftmaxF32(_ x: [Float]) -> [Float] {
        let lse = Sampling.logSumExp(x)
        return x.map { Float(Double($0) - lse) }
    }
}
