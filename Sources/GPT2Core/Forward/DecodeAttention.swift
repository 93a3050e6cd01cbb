// DecodeAttention — causal attention for the few-query-row case (decode steps, short chunks, the
// last layer's kept rows) on CKernels' single-pass kernel (attention.c): an online softmax over
// the cached positions, each key/value row read once for every head and every row of a group.
//
// A group is up to `maxRows` consecutive query rows of one sequence. Its visible positions are cut
// into spans of `spanPositions`; every (group, span) is one task on the compute pool, leaving a
// partial (max, sum, accumulator) state, and the spans' states are merged in position order. So one
// long sequence's decode step uses every thread (split-K over positions), and because the split
// depends only on that sequence's length — never on the thread count or on the other sequences of
// the batch — its results do not change with either.
import CKernels

/// Consecutive query rows of one sequence and where their outputs go.
struct AttentionGroup {
    let cache: KVCache
    /// Row i's query (heads concatenated, C floats) is at q + i·ldq.
    let q: UnsafePointer<Float>
    let ldq: Int
    let rows: Int
    /// Row i sees positions 0..<firstVisible + i.
    let firstVisible: Int
    /// Row i's output (C floats) goes to out + i·ldo.
    let out: UnsafeMutablePointer<Float>
    let ldo: Int
}

enum DecodeAttention {
    /// Query rows per group at most.
    static let maxRows = 16
    /// Positions per span (one task). Small enough that a context of a few hundred positions
    /// already spreads over 2 threads; large enough that a span's fixed costs (state, merge) vanish.
    static let spanPositions = 128

    /// Spans that `positions` visible positions (a group's last row's) are cut into.
    static func spans(positions: Int) -> Int { (positions + spanPositions - 1) / spanPositions }

    static func spans(_ g: AttentionGroup) -> Int { spans(positions: g.firstVisible + g.rows - 1) }

    /// Attends every group against layer l of its cache. `state` is scratch for the span states;
    /// `portable` runs the plain-C kernel (CPUs without AVX-512, and the tests).
    @_optimize(speed)
    static func run(_ groups: [AttentionGroup], layer l: Int, heads: Int, headDim: Int, scale: Float,
                    portable: Bool, state: ScratchBuffer) {
        // Task t covers span t − firstTask[g] of group g; its state starts at stateAt[t].
        var taskGroup: [Int] = [], firstTask: [Int] = [], stateAt: [Int] = []
        var floats = 0
        for (gi, g) in groups.enumerated() {
            firstTask.append(taskGroup.count)
            let each = ck_attn_state_floats(g.rows, heads, headDim)
            for _ in 0..<spans(g) { taskGroup.append(gi); stateAt.append(floats); floats += each }
        }
        let st = state.reserve(floats)
        func query(_ g: AttentionGroup) -> ck_attn_query {
            ck_attn_query(q: g.q, ldq: g.ldq, rows: g.rows, first_visible: g.firstVisible, heads: heads,
                          head_dim: headDim, scale: scale)
        }
        let body: (Int, Int) -> Void = { t, _ in
            let g = groups[taskGroup[t]]
            let begin = (t - firstTask[taskGroup[t]]) * spanPositions
            var kv = g.cache.kvView(layer: l), q = query(g)
            if portable { ck_attend_span_portable(&kv, &q, begin, begin + spanPositions, st + stateAt[t]) }
            else { ck_attend_span(&kv, &q, begin, begin + spanPositions, st + stateAt[t]) }
        }
        if taskGroup.count > 1 && Parallel.threads > 1 { Parallel.run(taskGroup.count, body) }
        else { for t in taskGroup.indices { body(t, 0) } }
        for (gi, g) in groups.enumerated() {
            var q = query(g)
            ck_attend_merge(&q, st + stateAt[firstTask[gi]], spans(g), g.out, g.ldo)
        }
    }
}
