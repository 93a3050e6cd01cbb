// HiddenBatch — one task request (classify, tag, qa, choose, embed) needs the final hidden states
// of one or more token sequences. Each sequence runs as its own job through the same batched
// forward passes as generation; this gathers their rows and answers once (the first error wins).
import Foundation
import GPT2Core

/// One sequence of a task request and the hidden rows it needs.
public struct HiddenSequence: Sendable {
    public var tokens: [Int32]
    /// .last: the final hidden state of the last token; .all: of every token.
    public var rows: RowSelection
    public init(tokens: [Int32], rows: RowSelection) { self.tokens = tokens; self.rows = rows }
}

final class HiddenBatch: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [[Float]?]
    /// Members whose rows have not arrived yet (counted, so collecting n windows stays O(n)).
    private var remaining: Int
    private var failed = false
    private let completion: @Sendable (Result<[[Float]], EngineError>) -> Void
    var members: [Job] = []
    /// Set (under Engine.cond) by the first member that ends with an error, once it has told every
    /// other member to stop: later failing members skip that O(members) pass.
    var membersStopped = false

    init(count: Int, completion: @escaping @Sendable (Result<[[Float]], EngineError>) -> Void) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.completion = completion
    }

    func collect(_ i: Int, _ hidden: [Float]) {
        lock.lock()
        guard !failed, results[i] == nil else { lock.unlock(); return }
        results[i] = hidden
        remaining -= 1
        let done = remaining == 0
        lock.unlock()
        if done { completion(.success(results.map { $0! })) }
    }

    @discardableResult
    func fail(_ e: EngineError) -> Bool {
        lock.lock()
        let first = !failed
        failed = true
        lock.unlock()
        if first { completion(.failure(e)) }
        return first
    }
}

extension Engine {
    /// Final hidden states (after ln_f) of each sequence, computed in the shared batches.
    /// The completion runs on the engine thread: keep post-processing light or hop elsewhere.
    /// `costField` names the request input that sets the number of rows (for `too_large`).
    public func hiddenStates(model name: String, sequences: [HiddenSequence], key: JobKey, client: ClientIdentity,
                             costField: String,
                             completion: @escaping @Sendable (Result<[[Float]], EngineError>) -> Void) {
        guard case .ready(let m) = resolve(name, retry: { [self] in
            hiddenStates(model: name, sequences: sequences, key: key, client: client, costField: costField, completion: completion)
        }, fail: { completion(.failure($0)) }) else { return }
        guard !sequences.isEmpty else { return completion(.success([])) }
        // The whole request's cost, bounded before anything is queued.
        let rows = sequences.reduce(0) { $0 + $1.tokens.count }
        guard rows <= options.maxRequestRows else {
            return completion(.failure(EngineError(.tooLarge,
                "this request needs \(rows) forward rows (\(sequences.count) windows or texts); the limit per request is \(options.maxRequestRows) (max_request_rows)",
                field: costField)))
        }
        let batch = HiddenBatch(count: sequences.count, completion: completion)
        let jobs = sequences.enumerated().map { i, s -> Job in
            Job(key: key, client: client, model: m, work: HiddenWork(sequence: s, batch: batch, index: i),
                role: i == 0 ? .request : .member)
        }
        batch.members = jobs
        submitAll(jobs)
    }
}
