// MetricsListenerTests — the metrics of a daemon in-process, as its users read them: GET /metrics on
// the HTTP listener, the `metrics` op on the JSON-lines socket (the same text; root and admin_group
// only, `forbidden` / 403 for anyone else) and the `metrics_textfile` file (written while serving and
// once more at shutdown with the final counts). The exposition's families are the catalog's, with
// their help, type and label names, and no user or session ever appears in it.
// (promtool and a real Prometheus server check the same text in scripts/test-metrics.sh.)
import Foundation
import GPT2JSON
import GPT2Systemd
import GPT2Wire
import Testing
@testable import GPT2Daemon

@Suite struct MetricsListenerTests {
    /// Checks `p` against MetricFamilies: every family known, typed as declared, with its help line,
    /// every label one of the family's (plus `le` on histogram buckets).
    private func expectCatalogued(_ p: PrometheusText) {
        for (name, type) in p.types {
            let family = MetricFamilies.byName[name]
            #expect(family?.kind.rawValue == type, "\(name) is \(type)")
            #expect(p.help[name] == family?.help, "\(name) help")
        }
        for s in p.samples {
            let family = p.family(of: s)
            let allowed = Set(MetricFamilies.byName[family]?.labels ?? []).union(s.name.hasSuffix("_bucket") ? ["le"] : [])
            #expect(Set(s.labels.keys).isSubset(of: allowed), "\(s.name) \(s.labels)")
        }
    }

    @Test func httpTheOpAndTheTextfileServeTheCounts() async throws {
        let dir = NSTemporaryDirectory() + "gpt2d-metrics-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let textfile = dir + "/gpt2d.prom"
        // While `stranger` is set, a new connection is uid 4242 (neither root nor in admin_group).
        let stranger = Locked(false)
        let h = try await DaemonHarness.start(
            DaemonHarness.config { $0.metricsTextfile = textfile; $0.metricsTextfileIntervalSeconds = 1 },
            credentialsFilter: { real in stranger.current ? PeerCredentials(pid: real.pid, uid: 4242, gid: 4242) : real },
            httpRequestTimeout: DaemonHarness.httpTestTimeout)

        let c = try await h.jsonLines()
        _ = try await c.call("generate", ["model": "tiny", "prompt": "Hello there", "max_new_tokens": 3])
        let session = try #require(try await c.call("session.open", ["model": "tiny"]).string("session"))
        _ = try await c.callError("no.such.op")
        try await c.sendRaw(Array("{\"id\":\n".utf8))
        _ = try await c.readResponse()
        #expect(try await h.call("GET", "/v1/models/nope").status == 404)
        #expect(try await h.call("GET", "/v1/models").status == 200)

        let http = try await h.call("GET", "/metrics")
        #expect(http.status == 200)
        #expect(http.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
        let p = try PrometheusText(http.text)
        expectCatalogued(p)
        #expect(p.familyOrder == p.familyOrder.sorted())
        func requests(_ listener: String, _ op: String, _ outcome: String) -> Double? {
            p.value("gpt2d_requests_total", ["listener": listener, "op": op, "outcome": outcome])
        }
        #expect(requests("jsonl", "generate", "ok") == 1)
        #expect(requests("jsonl", "session.open", "ok") == 1)
        #expect(requests("jsonl", "other", "unknown_op") == 1)
        #expect(requests("jsonl", "invalid", "parse_error") == 1)
        #expect(requests("http", "/v1/models/{id}", "404") == 1)
        #expect(requests("http", "/v1/models", "200") == 1)
        #expect(p.value("gpt2d_build_info", ["version": DaemonVersion.current, "protocol": String(ProtocolVersion.current)]) == 1)
        #expect(p.value("gpt2d_model_load_seconds", ["model": "tiny"]).map { $0 > 0 } == true)
        #expect(p.value("gpt2d_completion_tokens_total", ["model": "tiny"]) == 3)
        #expect(p.value("gpt2d_sessions") == 1)
        #expect(p.value("gpt2d_connections") == 1)
        #expect(p.value("gpt2d_kv_bytes_limit") == Double(64 << 20))
        #expect(p.value("gpt2d_queue_depth") == 0)
        // What must never be a label value: the session, the caller's uid or pid.
        #expect(!http.text.contains(session))
        #expect(!p.samples.contains { s in s.labels.values.contains { $0 == "0" || $0 == String(getpid()) } })

        // The op: the same families (and now the HTTP scrape above, counted once answered).
        let op = try await c.call("metrics")
        #expect(op.string("content_type") == MetricsExposition.contentType)
        let q = try PrometheusText(try #require(op.string("text")))
        expectCatalogued(q)
        #expect(Set(q.types.keys) == Set(p.types.keys))
        #expect(q.value("gpt2d_requests_total", ["listener": "http", "op": "/metrics", "outcome": "200"]) == 1)

        // Another user gets neither.
        stranger.withLock { $0 = true }
        let other = try await h.jsonLines()
        #expect(try await other.callError("metrics").code == .forbidden)
        let refused = try await h.call("GET", "/metrics")
        stranger.withLock { $0 = false }
        #expect(refused.status == 403)
        #expect(try refused.error()["code"] == "forbidden")

        // The textfile is there while serving; at shutdown it is written with the final counts.
        let serving = try PrometheusText(try String(contentsOfFile: textfile, encoding: .utf8))
        expectCatalogued(serving)
        other.close()
        c.close()
        await h.stop()
        let final = try PrometheusText(try String(contentsOfFile: textfile, encoding: .utf8))
        #expect(final.value("gpt2d_requests_total", ["listener": "jsonl", "op": "metrics", "outcome": "forbidden"]) == 1)
        #expect(final.value("gpt2d_requests_total", ["listener": "http", "op": "/metrics", "outcome": "403"]) == 1)
        #expect(final.value("gpt2d_connections") == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["gpt2d.prom"])
    }
}
