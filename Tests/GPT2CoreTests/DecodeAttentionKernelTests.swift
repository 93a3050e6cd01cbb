// The single-pass decode attention kernel (CKernels attention.c, driven by DecodeAttention) against
// a double-precision softmax(scale·q·kᵀ)·v on the same stored keys/values: odd head counts and
// head dims (ragged vectors), block sizes that do not divide the span length, positions spanning
// many blocks and spans, 1...16 causal query rows, every KV element type. The plain-C fallback
// must give the same results as the AVX2 version, and one span equals the merge of many.
import CKernels
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// A cache of `length` positions of random keys/values (layer 1 of 2 is the one under test) and
/// random query rows laid out like the runner's qkv (row stride 3C, q in the first C columns).
private struct AttentionCase {
    let heads: Int, headDim: Int, blockTokens: Int, length: Int, rows: Int, dtype: KVDType
    let cache: KVCache
    let q: [Float]
    var C: Int { heads * headDim }
    var firstVisible: Int { length - rows + 1 }

    init(heads: Int, headDim: Int, blockTokens: Int, length: Int, rows: Int, dtype: KVDType, seed: UInt64) {
        self.heads = heads; self.headDim = headDim; self.blockTokens = blockTokens
        self.length = length; self.rows = rows; self.dtype = dtype
        let C = heads * headDim
        let cfg = GPT2Config(vocabSize: 11, nPositions: 2048, nEmbd: C, nLayer: 2, nHead: heads, nInner: 8)
        cache = KVCache(pool: KVBlockPool(config: cfg, blockTokens: blockTokens, dtype: dtype))
        precondition(cache.reserve(positions: length))
        var rng = SplitMix64(seed: seed)
        var row = [Float](repeating: 0, count: C)
        for p in 0..<length {
            for l in 0..<2 {
                for i in 0..<C { row[i] = rng.float(scale: 2) }
                dtype.store(row, to: cache.keys(layer: l, position: p), count: C)
                for i in 0..<C { row[i] = rng.float(scale: 1) }
                dtype.store(row, to: cache.values(layer: l, position: p), count: C)
            }
        }
        cache.count = length
        q = (0..<(rows * 3 * C)).map { _ in rng.float(scale: 2) }
    }

    /// Layer 1's stored row (widened exactly) as Double.
    func stored(_ ptr: UnsafeMutableRawPointer) -> [Double] {
        var f = [Float](repeating: 0, count: C)
        dtype.load(ptr, to: &f, count: C)
        return f.map(Double.init)
    }

    /// (rows, C) outputs in Double.
    func reference(scale: Float) -> [[Double]] {
        let keys = (0..<length).map { stored(cache.keys(layer: 1, position: $0)) }
        let values = (0..<length).map { stored(cache.values(layer: 1, position: $0)) }
        return (0..<rows).map { i in
            var out = [Double](repeating: 0, count: C)
            for h in 0..<heads {
                let cols = (h * headDim)..<((h + 1) * headDim)
                let visible = firstVisible + i
                let s = (0..<visible).map { p in cols.reduce(0.0) { $0 + Double(q[i * 3 * C + $1]) * keys[p][$1] } * Double(scale) }
                let m = s.max()!
                let e = s.map { Foundation.exp($0 - m) }
                let sum = e.reduce(0, +)
                for c in cols { out[c] = (0..<visible).reduce(0.0) { $0 + e[$1] * values[$1][c] } / sum }
            }
            return out
        }
    }

    /// The kernel's (rows, C + 3) outputs (3 padding columns per row stay NaN).
    func run(portable: Bool, scale: Float) -> [Float] {
        var out = [Float](repeating: .nan, count: rows * (C + 3))
        q.withUnsafeBufferPointer { qp in
            out.withUnsafeMutableBufferPointer { op in
                let g = AttentionGroup(cache: cache, q: qp.baseAddress!, ldq: 3 * C, rows: rows,
                                       firstVisible: firstVisible, out: op.baseAddress!, ldo: C + 3)
                DecodeAttention.run([g], layer: 1, heads: heads, headDim: headDim, scale: scale,
                                    portable: portable, state: ScratchBuffer())
            }
        }
        return out
    }
}

@Suite struct DecodeAttentionKernelTests {
    /// Several threads, so the spans of one sequence run as parallel tasks.
    init() { TestThreads.configure() }

    /// (heads, head dim, block tokens, length): ragged head dims, blocks not dividing 16 or the
    /// 128-position span, up to 700 positions (6 spans, 88 blocks).
    static let shapes: [(Int, Int, Int, Int)] = [(3, 5, 7, 300), (5, 17, 4, 150), (2, 64, 32, 700),
                                                  (1, 24, 16, 40), (4, 33, 5, 260), (12, 64, 32, 129)]

    static func maxDiff(_ got: [Float], _ want: [[Double]], C: Int) -> Double {
        var d = 0.0
        for (i, row) in want.enumerated() { for c in 0..<C { d = max(d, abs(Double(got[i * (C + 3) + c]) - row[c])) } }
        return d
    }

    @Test(arguments: KVDType.allCases)
    func matchesDoubleReference(_ dtype: KVDType) {
        for (n, (heads, hd, b, len)) in Self.shapes.enumerated() {
            for rows in [1, 2, 5, 16] {
                let c = AttentionCase(heads: heads, headDim: hd, blockTokens: b, length: len, rows: rows, dtype: dtype,
                                      seed: UInt64(n * 31 + rows))
                let scale = 1 / Float(hd).squareRoot()
                let want = c.reference(scale: scale)
                for portable in KVDType.simd ? [false, true] : [true] {
                    let got = c.run(portable: portable, scale: scale)
                    let d = Self.maxDiff(got, want, C: c.C)
                    #expect(d < 2e-6, "\(dtype) heads \(heads) hd \(hd) B \(b) len \(len) rows \(rows) portable \(portable): \(d)")
                    for i in 0..<rows { #expect((0..<3).allSatisfy { got[i * (c.C + 3) + c.C + $0].isNaN }) }
                }
            }
        }
    }

    @Test(.enabled(if: KVDType.simd), arguments: KVDType.allCases)
    func fallbackEqualsFastPath(_ dtype: KVDType) {
        for rows in 1...16 {
            let c = AttentionCase(heads: 3, headDim: 40, blockTokens: 6, length: 200 + rows, rows: rows, dtype: dtype,
                                  seed: UInt64(rows))
            let fast = c.run(portable: false, scale: 0.3), plain = c.run(portable: true, scale: 0.3)
            let d = zip(fast, plain).reduce(Float(0)) { $1.0.isNaN && $1.1.isNaN ? $0 : max($0, abs($1.0 - $1.1)) }
            #expect(d < 2e-6, "rows \(rows): \(d)")  // the reference bound: they differ in summation order and exp
        }
    }

    /// One span over every position, merged alone, equals the driver's many spans merged.
    /// Found by scripts/sanitize.sh address (heap-buffer-overflow in kv_row): the AVX2 span clipped
    /// its end one position past what the last row sees, so when the cache's length filled its last
    /// block exactly, the tile loop and the next-tile prefetch read the block table one entry past
    /// its end. Here the table ends right before a PROT_NONE page: reading past it faults.
    @Test(.enabled(if: KVDType.simd)) func spanNeverReadsPastTheBlockTable() throws {
        let c = AttentionCase(heads: 2, headDim: 8, blockTokens: 8, length: 32, rows: 1, dtype: .float32, seed: 9)
        let want = c.run(portable: true, scale: 0.5)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let raw = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(raw, 2 * page) }
        #expect(mprotect(raw + page, page, PROT_NONE) == 0)
        var kv = c.cache.kvView(layer: 1)
        let blocks = c.length / c.blockTokens
        let table = (raw + page - blocks * MemoryLayout<UnsafeRawPointer?>.stride)
            .bindMemory(to: UnsafeRawPointer?.self, capacity: blocks)
        for b in 0..<blocks { table[b] = kv.blocks[b] }
        kv.blocks = UnsafePointer(table)
        var got = [Float](repeating: .nan, count: c.rows * (c.C + 3))
        var state = [Float](repeating: 0, count: ck_attn_state_floats(c.rows, c.heads, c.headDim))
        c.q.withUnsafeBufferPointer { qp in
            var q = ck_attn_query(q: qp.baseAddress!, ldq: 3 * c.C, rows: c.rows, first_visible: c.firstVisible,
                                  heads: c.heads, head_dim: c.headDim, scale: 0.5)
            ck_attend_span(&kv, &q, 0, DecodeAttention.spanPositions, &state)
            ck_attend_merge(&q, state, 1, &got, c.C + 3)
        }
        let d = zip(got, want).reduce(Float(0)) { $1.0.isNaN && $1.1.isNaN ? $0 : max($0, abs($1.0 - $1.1)) }
        #expect(d < 1e-5, "\(d)")
    }

    @Test func oneSpanEqualsMergedSpans() {
        let c = AttentionCase(heads: 2, headDim: 16, blockTokens: 8, length: 500, rows: 3, dtype: .float32, seed: 5)
        let split = c.run(portable: !KVDType.simd, scale: 0.25)
        var whole = [Float](repeating: .nan, count: c.rows * (c.C + 3))
        var state = [Float](repeating: 0, count: ck_attn_state_floats(c.rows, c.heads, c.headDim))
        c.q.withUnsafeBufferPointer { qp in
            var q = ck_attn_query(q: qp.baseAddress!, ldq: 3 * c.C, rows: c.rows, first_visible: c.firstVisible,
                                  heads: c.heads, head_dim: c.headDim, scale: 0.25)
            var kv = c.cache.kvView(layer: 1)
            if KVDType.simd { ck_attend_span(&kv, &q, 0, c.length, &state) }
            else { ck_attend_span_portable(&kv, &q, 0, c.length, &state) }
            ck_attend_merge(&q, state, 1, &whole, c.C + 3)
        }
        #expect(DecodeAttention.spans(positions: c.length) == 4)
        let d = zip(split, whole).reduce(Float(0)) { $1.0.isNaN && $1.1.isNaN ? $0 : max($0, abs($1.0 - $1.1)) }
        #expect(d < 1e-6, "\(d)")
    }
}
