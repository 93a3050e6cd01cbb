// gpt2-bench — the project's benchmark command (BENCHMARKS.md).
//
// Measures, on one checkpoint directory, in this process: load time, prefill tokens/s
// (128 and 512 tokens; full logits and last-position logits), decode tokens/s at batch 1 and 8
// (32 greedy steps after a 32-token prompt), RSS while serving and peak RSS. --weight-type serves
// the checkpoint in another type (converted or quantized at load; load_s then includes that).
// --context 32,1000 adds decode at batch 1 at those context depths (the mean number of positions the
// 32 timed steps attend to: the prompt is depth − 16 tokens) and the ratio of the last depth's figure
// to the first's; --kv-dtype stores the KV cache in 16 bits. --cache-dir DIR uses the quantized-weight
// cache: the first load is reported on its own (load_first_s: a miss quantizes and writes the file),
// load_s is then the median of the loads that map it; --load-only stops after the loads. With --compare it then runs
// scripts/bench_transformers.py on the same directory with the same thread count and prints
// both side by side with ratios (gpt2d ÷ transformers; > 1 means gpt2d is faster/larger).
// Every figure is the median of --repeats runs after one warm-up.
import ArgumentParser
import Foundation
import GPT2Core
import GPT2JSON

@main
struct GPT2Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpt2-bench",
        abstract: "Measure gpt2d's engine (and optionally Hugging Face transformers) on one GPT-2 checkpoint.")

    @Option(name: .long, help: "Checkpoint directory (config.json + model.safetensors).")
    var model: String

    @Option(name: .long, help: "Compute threads for both engines.")
    var threads: Int = 2

    @Option(name: .long, help: "Timed repetitions per figure (the median is reported).")
    var repeats: Int = 5

    @Flag(name: .long, help: "Also run scripts/bench_transformers.py on the same weights and print ratios.")
    var compare = false

    @Option(name: .long, help: "Python interpreter for --compare.")
    var python: String = "python3"

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(name: .long, help: "Measure only decode at batch 1 (for interleaved comparisons).")
    var decodeOnly = false

    @Flag(name: .long, help: "Measure only the prefill figures (for profiling).")
    var prefillOnly = false

    @Option(name: .long, help: "Also measure decode at batch 1 at these context depths (comma-separated, e.g. 32,1000).")
    var context: String?

    @Option(name: .long, help: "KV cache element type: float32, float16 or bfloat16.")
    var kvDtype: KVDType = .float32

    @Option(name: .long, help: "Decode batch sizes to measure (comma-separated, 1...64; default 1,8; --decode-only: 1); their repetitions interleave.")
    var decodeBatches: String?

    /// The --decode-batches sizes (sequences decoded together, 32-token prompts each).
    private var batches: [Int] {
        get throws {
            guard let decodeBatches else { return decodeOnly ? [1] : [1, 8] }
            return try decodeBatches.split(separator: ",").map {
                guard let b = Int($0.trimmingCharacters(in: .whitespaces)), (1...64).contains(b) else {
                    throw ValidationError("--decode-batches takes sizes 1...64, comma-separated")
                }
                return b
            }
        }
    }

    /// The --context depths.
    private var depths: [Int] {
        get throws {
            guard let context else { return [] }
            return try context.split(separator: ",").map {
                guard let d = Int($0.trimmingCharacters(in: .whitespaces)), d >= 16 else {
                    throw ValidationError("--context takes depths ≥ 16, comma-separated")
                }
                return d
            }
        }
    }
    @Option(name: .long, help: "Serve the weights as this type (float32, bfloat16, float16, int8, nf4, q4, fp4); default: the checkpoint's own.")
    var weightType: String?

    @Option(name: .long, help: "Matmul precision of bfloat16 weights: highest (F32 activations, exact) or medium (activations rounded to bfloat16; AVX512_BF16 dot products).")
    var matmulPrecision: MatmulPrecision = .highest

    @Flag(name: .long, help: "Print only the model pages' per-token latency table (batch 1, 2, 4 × prompt 128, 256, 512, 768; 16 decode steps).")
    var latencyTable = false

    @Option(name: .long, help: "Quantized-weight cache folder (int8, nf4, q4): the first load writes or checks it (load_first_s), the --repeats loads after it map it (load_s).")
    var cacheDir: String?

    @Flag(name: .long, help: "Measure only loading (time to ready, RSS after it, peak RSS), no forward passes.")
    var loadOnly = false

    mutating func run() throws {
        if let weightType, WeightType(rawValue: weightType) == nil {
            throw ValidationError("--weight-type must be one of \(WeightType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        ComputeThreads.configure(threads)
        if latencyTable {
            let m = try GPT2Model.load(directory: model, options: LoadOptions(weightType: weightType.flatMap(WeightType.init(rawValue:)), cacheDirectory: cacheDir, matmulPrecision: matmulPrecision))
            var rng = UInt64(777)
            let rows = try LatencyTable.measure(
                runner: GPT2Runner(config: m.config, weights: m.weights), pool: KVBlockPool(config: m.config, dtype: kvDtype),
                steps: 16, repeats: repeats) { n in
                (0..<n).map { _ in
                    rng = rng &* 6364136223846793005 &+ 1442695040888963407
                    return Int32(truncatingIfNeeded: (rng >> 33) % UInt64(m.config.vocabSize))
                }
            }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            LatencyTable.print(rows, weightType: weightType ?? "checkpoint", peakRSSMiB: Double(usage.ru_maxrss) / 1024)
            return
        }
        let ours = try measure()
        var theirs: (figures: [String: Double], versions: String)? = nil
        if compare { theirs = try runTransformers() }
        report(ours, theirs?.figures, versions: theirs?.versions ?? "")
    }

    // MARK: - gpt2d

    private func measure() throws -> [String: Double] {
        var r: [String: Double] = [:]
        // Load: map + preload, median over repeats (the page cache is warm after the first).
        // With --cache-dir the first load is timed on its own (it may quantize and write the cache).
        var loads: [Double] = []
        var loaded: GPT2Model? = nil
        let options = LoadOptions(weightType: weightType.flatMap(WeightType.init(rawValue:)), cacheDirectory: cacheDir, matmulPrecision: matmulPrecision)
        var outcomes: [String] = []
        for i in 0..<(max(1, repeats) + (cacheDir == nil ? 0 : 1)) {
            loaded = nil  // the previous copy goes first: peak RSS counts one model
            let t0 = Clock.now()
            loaded = try GPT2Model.load(directory: model, options: options)
            let t = Clock.now() - t0
            if let cache = loaded!.weights.quantizedCache {
                outcomes.append(cache.outcome.rawValue)
                if let e = cache.writeError { FileHandle.standardError.write(Data("gpt2-bench: cache not written: \(e)\n".utf8)) }
                r["digest_s"] = cache.digestSeconds
            }
            if cacheDir != nil && i == 0 { r["load_first_s"] = t } else { loads.append(t) }
        }
        if !outcomes.isEmpty {
            // Outcome of each load in order (miss / rebuilt / hit), on stderr: the table stays numbers.
            FileHandle.standardError.write(Data("gpt2-bench: cache \(cacheDir ?? ""): \(outcomes.joined(separator: ","))\n".utf8))
            r["cache_hit_loads"] = Double(outcomes.filter { $0 == "hit" }.count)
        }
        let m = loaded!
        r["load_s"] = median(loads)
        if loadOnly {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            r["peak_rss_mib"] = Double(usage.ru_maxrss) / 1024
            if let rss = currentRSSKiB() { r["rss_mib"] = Double(rss) / 1024 }
            r["weight_mib"] = Double(m.weights.mappedByteCount + m.weights.convertedByteCount + m.weights.packedByteCount) / 1048576
            return r
        }
        let runner = GPT2Runner(config: m.config, weights: m.weights)
        let pool = KVBlockPool(config: m.config, dtype: kvDtype)
        var rng = UInt64(12345)
        func ids(_ n: Int) -> [Int32] {
            (0..<n).map { _ in
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                return Int32(truncatingIfNeeded: (rng >> 33) % UInt64(m.config.vocabSize))
            }
        }

        let prefills: [(String, Int, RowSelection)] = decodeOnly ? [] : [
            ("prefill128_tok_s", 128, .all), ("prefill512_tok_s", 512, .all), ("prefill512_last_tok_s", 512, .last)]
        for (key, n, sel) in prefills {
            let prompt = ids(n)
            let t = try timedMedian {
                let cache = KVCache(pool: pool)
                _ = try runner.forward([ForwardRequest(cache: cache, tokens: prompt, logits: sel)])
            }
            r[key] = Double(n) / t
        }

        let steps = 32
        // The batch sizes' repetitions interleave, so their ratios (16 ÷ 8) compare like with like.
        let decodeBatches = prefillOnly ? [] : try batches
        let prompts = decodeBatches.map { batch in (0..<batch).map { _ in ids(32) } }
        let times = try interleavedMedians(decodeBatches.count, setup: { b -> [GeneratingSequence] in
            try GreedySteps.prefill(runner, pool: pool, prompts: prompts[b], steps: steps)
        }) { _, sequences in
            var sequences = sequences
            try runner.decode(&sequences)
        }
        for (b, batch) in decodeBatches.enumerated() {
            r["decode_b\(batch)_tok_s"] = Double(batch * steps) / times[b]
        }
        // Decode at depth d: the timed steps attend to d − 16 + 1 ... d + 16 positions (mean ≈ d).
        for d in try depths {
            let prompt = ids(d - steps / 2)
            guard prompt.count + steps <= m.config.nPositions else {
                throw ValidationError("--context \(d) needs \(prompt.count + steps) positions; the model has \(m.config.nPositions)")
            }
            let t = try timedMedian(setup: { () -> [GeneratingSequence] in
                try GreedySteps.prefill(runner, pool: pool, prompts: [prompt], steps: steps)
            }) { sequences in
                var sequences = sequences
                try runner.decode(&sequences)
            }
            r["decode_ctx\(d)_tok_s"] = Double(steps) / t
        }
        if let first = try depths.first, let last = try depths.last, first != last {
            r["decode_ctx_ratio"] = r["decode_ctx\(last)_tok_s"]! / r["decode_ctx\(first)_tok_s"]!
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        r["peak_rss_mib"] = Double(usage.ru_maxrss) / 1024
        if let rss = currentRSSKiB() { r["rss_mib"] = Double(rss) / 1024 }
        r["weight_mib"] = Double(m.weights.mappedByteCount + m.weights.convertedByteCount + m.weights.packedByteCount) / 1048576
        r["threads"] = Double(threads)
        r["kv_bytes_per_token"] = Double(pool.bytesPerToken)
        return r
    }

    private func timedMedian(_ body: () throws -> Void) throws -> Double {
        try timedMedian(setup: { () }, { _ in try body() })
    }

    /// One warm-up, then `repeats` timed runs of body (setup is not timed); the median seconds.
    private func timedMedian<S>(setup: () throws -> S, _ body: (S) throws -> Void) throws -> Double {
        try interleavedMedians(1, setup: { _ in try setup() }, { _, state in try body(state) })[0]
    }

    /// `timedMedian` for `count` measurements at once, their runs interleaved: one warm-up of each,
    /// then run r of every measurement before run r + 1 of any, so the host's drifting memory
    /// bandwidth weighs on all of them alike and their ratios compare like with like. body(i, state)
    /// is measurement i; setup(i) is not timed. The median seconds of each.
    private func interleavedMedians<S>(_ count: Int, setup: (Int) throws -> S, _ body: (Int, S) throws -> Void) throws -> [Double] {
        var times = [[Double]](repeating: [], count: count)
        for run in 0...max(1, repeats) {
            for i in 0..<count {
                let state = try setup(i)
                let t0 = Clock.now()
                try body(i, state)
                if run > 0 { times[i].append(Clock.now() - t0) }
            }
        }
        return times.map(median)
    }

    // MARK: - transformers

    private func runTransformers() throws -> (figures: [String: Double], versions: String) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench_transformers.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, script, model, "--threads", String(threads), "--json"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0,
              let last = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              case .object(let obj) = try JSON.parse(String(last)) else {
            throw ValidationError("bench_transformers.py failed (exit \(p.terminationStatus))")
        }
        var r: [String: Double] = [:]
        for (k, v) in obj { if let d = v.doubleValue { r[k] = d } }
        let versions = "transformers \(obj["transformers_version"]?.stringValue ?? "?"), torch \(obj["torch_version"]?.stringValue ?? "?")"
        return (r, versions)
    }

    // MARK: - Output

    private func report(_ ours: [String: Double], _ theirs: [String: Double]?, versions: String) {
        let depthRows = ((try? depths) ?? []).map { ("decode_ctx\($0)_tok_s", "decode batch 1, context \($0) (tok/s)") }
        let rows: [(String, String)] = [
            ("load_first_s", "first load, with --cache-dir (s)"),
            ("load_s", "load (s)"),
            ("digest_s", "of which checkpoint digest (s)"),
            ("cache_hit_loads", "loads that mapped the cache"),
            ("prefill128_tok_s", "prefill 128 tok, all logits (tok/s)"),
            ("prefill512_tok_s", "prefill 512 tok, all logits (tok/s)"),
            ("prefill512_last_tok_s", "prefill 512 tok, last logits (tok/s)"),
            ("decode_b1_tok_s", "decode batch 1 (tok/s)"),
        ] + ((try? batches) ?? []).filter { $0 > 1 }.map { ("decode_b\($0)_tok_s", "decode batch \($0), aggregate (tok/s)") }
          + depthRows + [
            ("decode_ctx_ratio", "decode, last context ÷ first"),
            ("kv_bytes_per_token", "KV bytes per token (\(kvDtype))"),
            ("rss_mib", "RSS while serving (MiB)"),
            ("peak_rss_mib", "peak RSS (MiB)"),
            ("weight_mib", "weights held (MiB)"),
        ]
        if json {
            var obj: [String: Any] = ["gpt2d": ours, "threads": threads, "model": model,
                                      "weight_type": weightType ?? "checkpoint", "matmul_precision": matmulPrecision.rawValue]
            if let theirs { obj["transformers"] = theirs }
            let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("model: \(model)   weight type: \(weightType ?? "checkpoint's own")   matmul precision: \(matmulPrecision)   threads: \(threads)   repeats: \(repeats) (medians)")
        if theirs != nil { print(versions) }
        let header = theirs == nil ? ["metric", "gpt2d"] : ["metric", "gpt2d", "transformers", "ratio"]
        var table: [[String]] = [header]
        for (key, label) in rows {
            guard let a = ours[key] else { continue }
            var line = [label, fmt(a)]
            if let theirs, let b = theirs[key] {
                // For time and memory lower is better: the ratio is still gpt2d ÷ transformers.
                line += [fmt(b), String(format: "%.2f×", a / b)]
            }
            // Figures transformers does not report (KV bytes, RSS while serving, ...) get empty cells.
            line += Array(repeating: "", count: header.count - line.count)
            table.append(line)
        }
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max()! }
        for (i, line) in table.enumerated() {
            print(line.enumerated().map { c, s in c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - s.count) + s }.joined(separator: "  "))
            if i == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
    }

    private func fmt(_ x: Double) -> String { x >= 100 ? String(format: "%.0f", x) : String(format: "%.3g", x) }
}

extension KVDType: ExpressibleByArgument {}
extension MatmulPrecision: ExpressibleByArgument {}

private func median(_ x: [Double]) -> Double {
    let s = x.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// VmRSS of this process (KiB) from /proc/self/status, or nil where there is none.
private func currentRSSKiB() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}

private enum Clock {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
