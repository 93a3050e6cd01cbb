// MetricsTests — the metrics room without sockets: the engine's series after driving a tiny engine
// (each compared with the engine's own counters), preemptions and evictions under a tight KV budget,
// the exposition's rendering (sorted families, help lines), and the textfile's atomic replacement.
// Every registry here is the test's own DaemonMetrics: nothing depends on MetricsSystem.bootstrap.
import Foundation
import Testing
import GPT2Core
import GPT2Wire
import GPT2TestSupport
@testable import GPT2Daemon
#if canImport(Glibc)
import Glibc
#endif

/// An engine over the tiny fixture ("tiny") recording into `metrics`.
private func metricsEngine(_ metrics: DaemonMetrics, kvBytes: Int? = nil, blockTokens: Int = 8) throws -> Engine {
    var o = EngineOptions()
    o.threads = TestThreads.count  // one pool size for the whole run (GPT2TestSupport/TestThreads.swift)
    o.sessionIdleTimeout = 86400
    o.kvCacheBytes = kvBytes
    o.kvBlockTokens = blockTokens
    o.maxBatchTokens = 512
    o.maxSessionsPerUser = o.maxSessions
    let m = try ServedModel.load(name: "tiny", directory: Fixtures.model("tiny-gpt2"), budget: KVMemoryBudget(limitBytes: kvBytes),
                                 blockTokens: blockTokens)
    let e = Engine(models: [m], options: o, metricsFactory: metrics.factory)
    e.start()
    return e
}

private func exposition(of metrics: DaemonMetrics) throws -> PrometheusText {
    try PrometheusText(MetricsExposition.render(metrics.registry.emitToString()))
}

@Suite struct MetricsTests {
    @Test func stepsAndRequestsAreCountedAsTheEngineCountsThem() async throws {
        let metrics = DaemonMetrics()
        let e = try metricsEngine(metrics)
        let prompt = [464, 3290, 373, 1043, 284, 262, 3650, 290, 484, 547, 257, 1310]  // 12 tokens: the second run reuses a prefix
        let started = ContinuousClock.now
        _ = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 6)).get()
        let again = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 1), id: 2).get()
        let generating = ContinuousClock.now - started
        _ = try await score(e, ScoreRequest(model: "tiny", input: .tokens([464, 3290, 373]))).get()
        let stats = e.stats()
        await e.shutdown(drain: true)

        let p = try exposition(of: metrics)
        let tiny = ["model": "tiny"]
        #expect(stats.promptTokensTotal == 12 + 12 + 3 && stats.completionTokensTotal == 7)
        #expect(again.usage.cachedTokens > 0)
        #expect(p.value("gpt2d_prompt_tokens_total", tiny) == Double(stats.promptTokensTotal))
        #expect(p.value("gpt2d_completion_tokens_total", tiny) == Double(stats.completionTokensTotal))
        #expect(p.value("gpt2d_cached_tokens_total", tiny) == Double(stats.cachedTokensTotal))
        #expect(p.value("gpt2d_forward_passes_total", tiny) == Double(stats.forwardPasses))
        #expect(p.value("gpt2d_batch_rows_count", tiny) == Double(stats.forwardPasses))
        #expect(p.value("gpt2d_batch_rows_sum", tiny) == Double(stats.batchRowsTotal))
        #expect(p.value("gpt2d_batch_rows_bucket", ["model": "tiny", "le": "+Inf"]) == Double(stats.forwardPasses))
        #expect(p.value("gpt2d_step_duration_seconds_count", tiny) == Double(stats.forwardPasses))
        #expect(p.value("gpt2d_step_duration_seconds_sum", tiny).map { $0 > 0 } == true)
        // Two generations are timed (the scoring is not); one had more than one token.
        #expect(p.value("gpt2d_time_to_first_token_seconds_count", tiny) == 2)
        #expect(p.value("gpt2d_time_per_output_token_seconds_count", tiny) == 1)
        // Each first token came within its own request, one after the other: together within the wall time.
        let ttft = try #require(p.value("gpt2d_time_to_first_token_seconds_sum", tiny))
        let wall = Double(generating.components.seconds) + Double(generating.components.attoseconds) / 1e18
        #expect(ttft > 0 && ttft <= wall)
        #expect(try #require(p.value("gpt2d_time_per_output_token_seconds_sum", tiny)) <= wall)
        #expect(p.value("gpt2d_running_sequences") == 0)
        #expect(p.value("gpt2d_preemptions_total") == 0)
        // Buckets are cumulative: every bound counts at least what the bound before it counts.
        let buckets = p.samples.filter { $0.name == "gpt2d_batch_rows_bucket" }.map(\.value)
        #expect(buckets.count == MetricFamilies.batchRows.buckets.count + 1)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func preemptionsAndEvictionsUnderATightBudgetAreCounted() async throws {
        let metrics = DaemonMetrics()
        // 64 KiB: 128 positions of the tiny model (512 bytes each), far below eight 64-token generations.
        let e = try metricsEngine(metrics, kvBytes: 64 << 10, blockTokens: 16)
        let prompt = [464, 3290, 373, 1043, 284, 262, 3650, 290]
        let failures = await withTaskGroup(of: String?.self) { group in
            for i in 0..<8 {
                group.addTask {
                    if case .failure(let e) = await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 48), id: Int64(i)) {
                        return e.description
                    }
                    return nil
                }
            }
            return await group.reduce(into: [String]()) { if let f = $1 { $0.append(f) } }
        }
        // A budget this tight may also refuse a request (`overloaded`: the needy job was the only one
        // holding memory); the point here is that the counts are the engine's own.
        #expect(failures.allSatisfy { $0.hasPrefix("overloaded: the KV cache budget") }, "\(failures)")
        // The prompt cache now holds finished requests' blocks; an unrelated request needs them back.
        _ = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(Array(1000..<1040)), maxNewTokens: 40), id: 99).get()
        let stats = e.stats()
        await e.shutdown(drain: true)
        let p = try exposition(of: metrics)
        #expect(stats.preemptions > 0)
        #expect(p.value("gpt2d_preemptions_total") == Double(stats.preemptions))
        #expect(p.value("gpt2d_evictions_total", ["kind": "prefix"]).map { $0 > 0 } == true)
        #expect(p.value("gpt2d_evictions_total", ["kind": "session"]) == 0)
    }

    @Test func theExpositionIsSortedWithHelpLines() throws {
        let registry = """
            # TYPE gpt2d_sessions gauge
            gpt2d_sessions 2
            # TYPE gpt2d_requests_total counter
            gpt2d_requests_total{listener="jsonl",op="stats",outcome="ok"} 1
            gpt2d_requests_total{listener="http",op="/metrics",outcome="200"} 3
            # TYPE some_library_total counter
            some_library_total 7

            """
        let text = MetricsExposition.render(registry)
        #expect(text == """
            # HELP gpt2d_requests_total \(MetricFamilies.requests.help)
            # TYPE gpt2d_requests_total counter
            gpt2d_requests_total{listener="http",op="/metrics",outcome="200"} 3
            gpt2d_requests_total{listener="jsonl",op="stats",outcome="ok"} 1
            # HELP gpt2d_sessions \(MetricFamilies.sessions.help)
            # TYPE gpt2d_sessions gauge
            gpt2d_sessions 2
            # TYPE some_library_total counter
            some_library_total 7

            """)
        #expect(MetricsExposition.escapeHelp("a\\b\nc") == "a\\\\b\\nc")
    }

    @Test func requestLabelsHaveAFixedSetOfValues() {
        #expect(HTTPRoutes.endpoint("/v1/models/gpt2") == "/v1/models/{id}")
        #expect(HTTPRoutes.endpoint("/v1/sessions/s-123") == "/v1/sessions/{id}")
        #expect(HTTPRoutes.endpoint("/v1/completions") == "/v1/completions")
        #expect(HTTPRoutes.endpoint("/metrics") == "/metrics")
        #expect(HTTPRoutes.endpoint("/tokenize") == "/tokenize")
        #expect(HTTPRoutes.endpoint("/anything/\(UInt32.random(in: 0...UInt32.max))") == "other")
        #expect(RequestMetrics.jsonLinesOp("generate") == "generate")
        #expect(RequestMetrics.jsonLinesOp("metrics") == "metrics")
        #expect(RequestMetrics.jsonLinesOp("summarize-\(UInt32.random(in: 0...UInt32.max))") == "other")
        #expect(RequestMetrics.outcome(nil) == "ok" && RequestMetrics.outcome(.unknownOp) == "unknown_op")
    }

    @Test func everyFamilyFollowsThePrometheusConventions() {
        for f in MetricFamilies.all {
            #expect(f.name.hasPrefix("gpt2d_"), "\(f.name)")
            #expect(f.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(f.name)")
            #expect((f.kind == .counter) == f.name.hasSuffix("_total"), "\(f.name): _total on counters only")
            #expect(f.kind == .histogram ? !f.buckets.isEmpty && f.buckets == f.buckets.sorted() : f.buckets.isEmpty, "\(f.name)")
            #expect(!f.help.isEmpty && !f.help.contains("\n"))
            for forbidden in ["user", "uid", "session", "id", "pid", "connection"] { #expect(!f.labels.contains(forbidden), "\(f.name)") }
        }
        #expect(MetricFamilies.byName.count == MetricFamilies.all.count)
    }
}

@Suite struct MetricsTextfileTests {
    private func tempDirectory() throws -> String {
        var template = Array("/tmp/gpt2d-textfile-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw TestError.io("mkdtemp: errno \(errno)") }
        return String(cString: template)
    }

    @Test func aReaderSeesTheOldFileOrTheNewOneNeverAPart() async throws {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = MetricsTextfile(path: dir + "/gpt2d.prom")
        // Two texts of different lengths (the long one spans many write(2) pages).
        let long = (0..<20_000).map { "gpt2d_test_series{i=\"\($0)\"} 1\n" }.joined()
        let short = "gpt2d_build_info{version=\"x\"} 1\n"
        try file.write(short)
        // Reader and writer on threads of their own (blocking loops stay off the cooperative pool).
        // The reader is a thread of its own, started here; the writer (another thread, off the
        // cooperative pool) starts once the reader has read once and goes on until it has read 50
        // times (at least 60 writes, at most 5,000).
        let done = Locked(false), readsSoFar = Locked(0), result = Locked((reads: 0, torn: 0))
        let finished = DispatchSemaphore(value: 0)
        let reader = Thread {
            var reads = 0, torn = 0
            while !done.current {
                guard let data = FileManager.default.contents(atPath: file.path) else { torn += 1; continue }
                let text = String(decoding: data, as: UTF8.self)
                if text != long && text != short { torn += 1 }
                reads += 1
                readsSoFar.withLock { $0 = reads }
            }
            result.withLock { $0 = (reads, torn) }
            finished.signal()
        }
        reader.start()
        try await onThread {
            defer { done.withLock { $0 = true } }
            let deadline = TestTimeScale.deadline(60)
            while readsSoFar.current == 0 && Date() < deadline { usleep(1000) }
            var i = 0
            while i < 5000 && (i < 60 || readsSoFar.current < 50) {
                try file.write(i % 2 == 0 ? long : short)
                i += 1
            }
        }
        try await onThread { finished.wait() }
        let (reads, torn) = result.current
        #expect(reads >= 50)
        #expect(torn == 0, "\(torn) of \(reads) reads saw a partial or missing file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["gpt2d.prom"])
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
        #expect(mode == 0o644)
    }

    @Test func aFailedWriteLeavesNoTemporaryFile() throws {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The path is a directory: the rename fails, and the temporary file beside it is removed.
        try FileManager.default.createDirectory(atPath: dir + "/taken.prom", withIntermediateDirectories: false)
        #expect(throws: MetricsTextfile.WriteError.self) { try MetricsTextfile(path: dir + "/taken.prom").write("x 1\n") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken.prom"])
        // A directory that does not exist: nothing is created.
        #expect(throws: MetricsTextfile.WriteError.self) { try MetricsTextfile(path: dir + "/missing/gpt2d.prom").write("x 1\n") }
        #expect(MetricsTextfile(path: "/a/b.prom").temporaryTemplate == "/a/.b.prom.XXXXXX")
    }
}
