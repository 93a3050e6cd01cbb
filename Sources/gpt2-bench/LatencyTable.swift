// LatencyTable — the model pages' per-token latency table (batch size × sequence length): for each
// batch b and prompt length s, b prompts of s tokens are prefilled (not timed), then `steps` greedy
// decode steps of all b sequences (GPT2Core's generation loop, GreedySteps) are timed together; "per token latency" is the median time of one
// such step (ms), i.e. what each new token of every sequence costs in wall time. Peak RSS is this
// process's (one model + the largest batch's KV cache), as the pages' "Mem" columns are.
import Foundation
import GPT2Core

struct LatencyRow {
    var batch: Int
    var sequence: Int
    /// Median wall time of one decode step of the whole batch (ms).
    var perTokenMs: Double
}

enum LatencyTable {
    static let batches = [1, 2, 4]
    static let sequences = [128, 256, 512, 768]

    /// Rows in the pages' order (batch-major); `ids(n)` draws n prompt tokens.
    static func measure(runner: GPT2Runner, pool: KVBlockPool, steps: Int, repeats: Int,
                        ids: (Int) -> [Int32]) throws -> [LatencyRow] {
        var rows: [LatencyRow] = []
        for b in batches {
            for s in sequences where s + steps <= runner.config.nPositions {
                var times: [Double] = []
                for _ in 0..<max(1, repeats) {
                    var sequences = try GreedySteps.prefill(runner, pool: pool, prompts: (0..<b).map { _ in ids(s) }, steps: steps)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try runner.decode(&sequences)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(steps))
                }
                times.sort()
                rows.append(LatencyRow(batch: b, sequence: s, perTokenMs: times[times.count / 2]))
            }
        }
        return rows
    }

    /// The table as the pages print it, plus one JSON line.
    static func print(_ rows: [LatencyRow], weightType: String, peakRSSMiB: Double) {
        Swift.print("weight type: \(weightType)   peak RSS: \(String(format: "%.0f", peakRSSMiB)) MiB")
        Swift.print("| Batch size | Seq len | Per token latency (ms) |")
        Swift.print("|---:|---:|---:|")
        for r in rows { Swift.print("| \(r.batch) | \(r.sequence) | \(String(format: "%.2f", r.perTokenMs)) |") }
        let json = rows.map { "{\"batch\":\($0.batch),\"seq\":\($0.sequence),\"per_token_ms\":\(String(format: "%.3f", $0.perTokenMs))}" }
        Swift.print("{\"weight_type\":\"\(weightType)\",\"peak_rss_mib\":\(String(format: "%.1f", peakRSSMiB)),\"rows\":[\(json.joined(separator: ","))]}")
    }
}
