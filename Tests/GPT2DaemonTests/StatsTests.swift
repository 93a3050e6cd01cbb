// What `stats` reports of the engine: KV bytes and blocks, forward passes and batch rows, mapped to
// the wire result by the mapping layer (and read back by a client).
import Foundation
import Testing
import GPT2Core
import GPT2Wire
import GPT2TestSupport
@testable import GPT2Daemon

@Suite struct StatsTests {
    @Test func engineCountsPassesRowsAndKVBlocks() async throws {
        let cfg = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2")).config
        let block = KVBlockPool(config: cfg, blockTokens: 8).bytesPerBlock
        let e = try makeEngine(kvBytes: block * 40, blockTokens: 8, maxBatchTokens: 64)
        let s = try e.sessions.open(model: "tiny", owner: alice.principal)
        let r = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(Array(1000..<1020)), session: s.id, maxNewTokens: 5)).get()
        let st = e.stats()
        // 20 prompt rows in one pass, then one row per new token but the last (never fed back).
        #expect(st.forwardPasses == 5 && st.batchRowsTotal == 20 + 4)
        #expect(st.batchRowsLast == 1 && abs(st.batchRowsMean - 24.0 / 5) < 1e-12)
        // The session keeps 24 computed positions: 3 blocks of 8.
        #expect(r.tokens.count == 5 && st.kvBlocksInUse == 3 && st.kvBytesInUse == 3 * block)
        #expect(st.kvBytesLimit == block * 40 && st.kvBlocksFree == 37)
        await e.shutdown(drain: true)
    }

    @Test func wireResultCarriesTheEngineCountersAndRoundTrips() throws {
        var e = EngineStats(requestsActive: 1, queueDepth: 2, requestsTotal: 3, errorsTotal: 0, promptTokensTotal: 40,
                            completionTokensTotal: 9, cachedTokensTotal: 0, sessions: 1, kvBytesInUse: 4096, kvBytesLimit: nil,
                            forwardPasses: 4, preemptions: 1)
        e.kvBlocksInUse = 2; e.batchRowsTotal = 10; e.batchRowsLast = 1
        let wire = StatsResponse(e, server: ServerCounters(uptimeSeconds: 5, connections: 1, requestsTotal: 7, errorsTotal: 2))
        #expect(wire.requestsTotal == 7 && wire.errorsTotal == 2 && wire.promptTokensTotal == 40)
        let body = wire.json()
        #expect(body["kv_bytes_limit"] == .null && body["kv_blocks_free"] == .null)
        #expect(body["batch_rows_mean"] == .double(2.5) && body["preemptions_total"] == .int(1))
        #expect(try StatsResponse(from: body) == wire)
        // A result without the engine's counters (an older daemon) still decodes.
        var old = body
        for k in ["kv_bytes_in_use", "kv_bytes_limit", "kv_blocks_in_use", "kv_blocks_free", "preemptions_total",
                  "forward_passes_total", "batch_rows_total", "batch_rows_last", "batch_rows_mean"] { old[k] = nil }
        #expect(try StatsResponse(from: old).engine == nil)
    }
}
