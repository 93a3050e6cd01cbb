// SequenceGroup — num_return_sequences > 1: n sampled sequences share one prompt computation
// (the leader prefills; the others fork its cache) and answer as ONE response. Token events are
// tagged with their sequence index; the result lists every sequence; the first error ends all.
import Foundation

final class SequenceGroup: @unchecked Sendable {
    let count: Int
    /// Sequence i samples with seed baseSeed &+ i (so sequence 0 equals a single request with that seed).
    let baseSeed: UInt64
    private let events: @Sendable (EngineEvent) -> Void
    private let lock = NSLock()
    private var results: [GenerationResult?]
    private var failed = false
    /// Every member job, leader first (set once by the engine after creating them).
    var members: [Job] = []

    init(count: Int, baseSeed: UInt64, events: @escaping @Sendable (EngineEvent) -> Void) {
        self.count = count
        self.baseSeed = baseSeed
        self.events = events
        results = Array(repeating: nil, count: count)
    }

    var hasFailed: Bool { lock.lock(); defer { lock.unlock() }; return failed }

    /// The event sink of member i.
    func memberEvents(_ i: Int) -> @Sendable (EngineEvent) -> Void {
        { [self] e in
            switch e {
            case .token(var t):
                t.sequence = i
                if !hasFailed { events(.token(t)) }
            case .result(let r):
                collect(i, r)
            case .error(let err):
                fail(err)
            }
        }
    }

    private func collect(_ i: Int, _ r: GenerationResult) {
        lock.lock()
        guard !failed else { lock.unlock(); return }
        results[i] = r
        let all = results.allSatisfy { $0 != nil } ? results.map { $0! } : nil
        lock.unlock()
        guard let all else { return }
        let first = all[0]
        let sequences = all.map { SequenceOutput(text: $0.text, tokens: $0.tokens, finishReason: $0.finishReason, logprobs: $0.logprobs, score: nil) }
        let usage = GenerationUsage(promptTokens: first.usage.promptTokens,
                                           completionTokens: all.reduce(0) { $0 + $1.usage.completionTokens },
                                           cachedTokens: first.usage.cachedTokens)
        let timing = GenerationTiming(queueMs: first.timing.queueMs, promptMs: first.timing.promptMs,
                                             completionMs: all.map(\.timing.completionMs).max()!,
                                             totalMs: all.map(\.timing.totalMs).max()!)
        events(.result(GenerationResult(text: first.text, tokens: first.tokens, finishReason: first.finishReason,
                                        usage: usage, timing: timing, logprobs: first.logprobs,
                                        topLogprobs: first.topLogprobs, sequences: sequences)))
    }

    /// The first failure answers the request; later ones are swallowed. Returns whether this was the first.
    @discardableResult
    func fail(_ err: EngineError) -> Bool {
        lock.lock()
        let first = !failed
        failed = true
        lock.unlock()
        if first { events(.error(err)) }
        return first
    }
}
