// GPT2Runner — the batched GPT-2 forward pass (transformers' GPT2LMHeadModel, eval mode, F32).
//
// One call computes the new tokens of many independent sequences: prefill chunks and single
// decode tokens mixed freely. All new tokens are stacked into one (N, C) activation matrix so
// every weight matrix is read once per call for everyone (continuous batching); only attention
// is per sequence, against that sequence's own KV cache.
//
//   x = wte[ids] + wpe[pos]                      (N, C)
//   per block l:  x += proj(attn(ln_1(x)))       attn against cache positions 0...pos
//                 x += mlp(ln_2(x))              mlp = c_proj(act(c_fc(·)))
//   h = ln_f(x[selected rows]);  logits = h · lm_headᵀ   (R, V)
//
// A runner owns scratch memory and is not thread-safe; use one per compute thread.

public final class GPT2Runner {
    public let config: GPT2Config
    public let weights: GPT2Weights

    // Scratch, sized for the largest batch seen so far.
    private let xBuf = ScratchBuffer()       // (N, C)   residual stream
    private let hBuf = ScratchBuffer()       // (N, C)   layer-norm output
    private let qkvBuf = ScratchBuffer()     // (N, 3C)  c_attn output: q | k | v
    private let attnBuf = ScratchBuffer()    // (N, C)   attention output (heads concatenated)
    private let fcBuf = ScratchBuffer()      // (N, F)   MLP hidden
    private let scoreBuf = ScratchBuffer()   // attention scores, see attention()
    private let gatherKBuf = ScratchBuffer() // (len, HD) one head's keys, contiguous (attendGemm)
    private let gatherVBuf = ScratchBuffer() // (len, HD) one head's values, contiguous
    private let finalBuf = ScratchBuffer()   // (R, C)   ln_f output of selected rows
    private let logitInBuf = ScratchBuffer() // (RL, C)  rows that want logits, when a subset
    private let logitBuf = ScratchBuffer()   // (RL, V)
    private let keepXBuf = ScratchBuffer()   // (m, C)   last layer: residual of the rows outputs read
    private let keepAttnBuf = ScratchBuffer() // (m, C)  last layer: their attention output

    /// Query rows at or above this count use GEMMs for attention (the project's kernels, or OpenBLAS
    /// without AVX-512); below, SIMD loops.
    public var attentionGemmThreshold = 8
    /// Query rows per block in the GEMM attention path (the causal mask is skipped per block).
    public var attentionRowBlock = 64

    public init(config: GPT2Config, weights: GPT2Weights) {
        self.config = config
        self.weights = weights
    }

    /// Computes `batch` and appends every sequence's new keys/values to its cache.
    /// Throws before touching any cache when an input is invalid or the KV budget has no room.
    @_optimize(speed)
    public func forward(_ batch: [ForwardRequest]) throws -> [ForwardResult] {
        let C = config.nEmbd, V = config.vocabSize, F = config.nInner
        try validate(batch)

        // Reserve KV blocks for every sequence first; roll back all of them on failure.
        var reserved: [(KVCache, Int)] = []
        for (s, req) in batch.enumerated() {
            let before = req.cache.blocks.count
            if !req.cache.reserve(positions: req.cache.count + req.tokens.count) {
                for (cache, n) in reserved where cache.blocks.count > n { cache.blocks.removeLast(cache.blocks.count - n) }
                let need = (req.cache.count + req.tokens.count + req.cache.pool.blockTokens - 1) / req.cache.pool.blockTokens - before
                throw ForwardError.kvBudgetExhausted(sequence: s, neededBlocks: need)
            }
            reserved.append((req.cache, before))
        }

        // Row layout: sequence s owns rows rowStart[s] ..< rowStart[s] + T_s.
        var rowStart: [Int] = []
        var n = 0
        for req in batch { rowStart.append(n); n += req.tokens.count }

        let x = xBuf.reserve(n * C), h = hBuf.reserve(n * C), qkv = qkvBuf.reserve(n * 3 * C)
        let attn = attnBuf.reserve(n * C)
        _ = fcBuf.reserve(n * F)  // sized for the largest batch up front

        embed(batch, rowStart, x)

        let eps = config.layerNormEpsilon
        // Rows the outputs read; in the last layer only they go past the key/value projection.
        let keep = outputRows(batch, n)
        for (l, lw) in weights.layers.enumerated() {
            // Attention sub-block: x += c_proj(attn(ln_1(x))).
            LayerNormKernel.apply(x, ldx: C, rows: n, c: C, gamma: lw.ln1Weight.data, beta: lw.ln1Bias.data, eps: eps, h, ldo: C)
            broadcastRows(lw.attnQKVBias.data, width: 3 * C, rows: n, into: qkv)
            Matmul.conv1D(h, m: n, k: C, lw.attnQKVWeight, n: 3 * C, qkv, beta: 1)
            storeKeysValues(batch, rowStart, layer: l, qkv)
            if l == weights.layers.count - 1, let keep {
                finishLastLayer(batch, rowStart, keep, layer: l, lw, qkv, x)
                break
            }
            attention(batch, rowStart, layer: l, qkv, attn)
            addBiasRows(lw.attnProjBias.data, width: C, rows: n, into: x)
            Matmul.conv1D(attn, m: n, k: C, lw.attnProjWeight, n: C, x, beta: 1)

            // MLP sub-block: x += c_proj(act(c_fc(ln_2(x)))).
            mlp(lw, x, rows: n)
        }
        for req in batch { req.cache.count += req.tokens.count }

        return outputs(batch, rowStart, x, C: C, V: V)
    }

    /// x (rows, C) += c_proj(act(c_fc(ln_2(x)))), using hBuf / fcBuf as scratch.
    @_optimize(speed)
    private func mlp(_ lw: GPT2LayerWeights, _ x: UnsafeMutablePointer<Float>, rows n: Int) {
        let C = config.nEmbd, F = config.nInner
        let h = hBuf.reserve(n * C), fc = fcBuf.reserve(n * F)
        LayerNormKernel.apply(x, ldx: C, rows: n, c: C, gamma: lw.ln2Weight.data, beta: lw.ln2Bias.data,
                              eps: config.layerNormEpsilon, h, ldo: C)
        broadcastRows(lw.mlpFCBias.data, width: F, rows: n, into: fc)
        Matmul.conv1D(h, m: n, k: C, lw.mlpFCWeight, n: F, fc, beta: 1)
        ActivationKernel.apply(config.activation, fc, count: n * F)
        addBiasRows(lw.mlpProjBias.data, width: C, rows: n, into: x)
        Matmul.conv1D(fc, m: n, k: F, lw.mlpProjWeight, n: C, x, beta: 1)
    }

    /// The (sequence, token) rows `outputs` reads, in row order; nil when that is every row.
    /// A prefill that only wants its last position (generation, classification, embeddings) then
    /// runs the last layer's attention, projection and MLP for that one row per sequence: its
    /// keys and values are still computed and cached for every row.
    private func outputRows(_ batch: [ForwardRequest], _ n: Int) -> [(s: Int, t: Int)]? {
        var rows: [(s: Int, t: Int)] = []
        for (s, req) in batch.enumerated() { rows.append(contentsOf: req.outputTokens.map { (s, $0) }) }
        return rows.count == n ? nil : rows
    }

    /// The last layer after its key/value projection, for the `keep` rows only: they are gathered
    /// into compact (m, C) buffers, attended, projected, run through the MLP and scattered back into x.
    @_optimize(speed)
    private func finishLastLayer(_ batch: [ForwardRequest], _ rowStart: [Int], _ keep: [(s: Int, t: Int)],
                                 layer l: Int, _ lw: GPT2LayerWeights,
                                 _ qkv: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>) {
        let C = config.nEmbd, m = keep.count
        guard m > 0 else { return }
        let xk = keepXBuf.reserve(m * C), ak = keepAttnBuf.reserve(m * C)
        for (i, r) in keep.enumerated() { (xk + i * C).update(from: x + (rowStart[r.s] + r.t) * C, count: C) }
        attendRows(batch, rowStart, keep, layer: l, scale: attentionScale(layer: l), qkv, out: ak, compact: true)
        addBiasRows(lw.attnProjBias.data, width: C, rows: m, into: xk)
        Matmul.conv1D(ak, m: m, k: C, lw.attnProjWeight, n: C, xk, beta: 1)
        mlp(lw, xk, rows: m)
        for (i, r) in keep.enumerated() { (x + (rowStart[r.s] + r.t) * C).update(from: xk + i * C, count: C) }
    }

    // MARK: - Steps

    @_optimize(speed)
    private func validate(_ batch: [ForwardRequest]) throws {
        var seen = Set<ObjectIdentifier>()
        for (s, req) in batch.enumerated() {
            if req.tokens.isEmpty { throw ForwardError.emptyInput(sequence: s) }
            if !seen.insert(ObjectIdentifier(req.cache)).inserted { throw ForwardError.duplicateCache(sequence: s) }
            for t in req.tokens where t < 0 || Int(t) >= config.vocabSize {
                throw ForwardError.tokenOutOfRange(sequence: s, token: Int(t), vocabSize: config.vocabSize)
            }
            let end = req.cache.count + req.tokens.count
            if end > config.nPositions {
                throw ForwardError.contextOverflow(sequence: s, positions: end, limit: config.nPositions)
            }
        }
    }

    /// x[r] = wte[token] + wpe[position] for every new token (wte's row widened from its storage).
    @_optimize(speed)
    private func embed(_ batch: [ForwardRequest], _ rowStart: [Int], _ x: UnsafeMutablePointer<Float>) {
        let C = config.nEmbd
        let wte = weights.wte, wpe = weights.wpe.data
        for (s, req) in batch.enumerated() {
            let past = req.cache.count
            for (t, token) in req.tokens.enumerated() {
                let row = x + (rowStart[s] + t) * C
                wte.copyRow(Int(token), into: row)
                VectorOps.add(wpe + (past + t) * C, row, C)
            }
        }
    }

    /// Copies each new token's k and v (columns C..<2C and 2C..<3C of qkv) into its cache.
    @_optimize(speed)
    private func storeKeysValues(_ batch: [ForwardRequest], _ rowStart: [Int], layer l: Int,
                                 _ qkv: UnsafeMutablePointer<Float>) {
        let C = config.nEmbd
        for (s, req) in batch.enumerated() {
            let past = req.cache.count
            for t in 0..<req.tokens.count {
                let row = qkv + (rowStart[s] + t) * 3 * C
                req.cache.keys(layer: l, position: past + t).update(from: row + C, count: C)
                req.cache.values(layer: l, position: past + t).update(from: row + 2 * C, count: C)
            }
        }
    }

    /// Causal multi-head attention of every new token against its own sequence's cache.
    /// q is read from qkv (row stride 3C); the output goes to attn (N, C), heads concatenated.
    @_optimize(speed)
    private func attention(_ batch: [ForwardRequest], _ rowStart: [Int], layer l: Int,
                           _ qkv: UnsafeMutablePointer<Float>, _ attn: UnsafeMutablePointer<Float>) {
        let scale = attentionScale(layer: l)
        // Sequences with many new tokens: two GEMMs per (sequence, head), spread over the pool.
        // The rest: SIMD loops, one task per (sequence, query row) covering every head.
        var big: [Int] = [], rows: [(s: Int, t: Int)] = []
        for (s, req) in batch.enumerated() {
            if req.tokens.count >= attentionGemmThreshold { big.append(s) }
            else { for t in 0..<req.tokens.count { rows.append((s, t)) } }
        }
        if !big.isEmpty { attendGemm(batch, rowStart, big, layer: l, scale: scale, qkv, attn) }
        if !rows.isEmpty { attendRows(batch, rowStart, rows, layer: l, scale: scale, qkv, out: attn, compact: false) }
    }

    /// 1/√head_dim (when scale_attn_weights), divided by layer + 1 (when scale_attn_by_inverse_layer_idx).
    private func attentionScale(layer l: Int) -> Float {
        var scale: Float = config.scaleAttnWeights ? 1 / Float(config.headDim).squareRoot() : 1
        if config.scaleAttnByInverseLayerIdx { scale /= Float(l + 1) }
        return scale
    }

    /// SIMD path for the query rows `rows`, one task per row covering every head: each cached
    /// key/value row (C floats, every head) is read once, sequentially, instead of once per head
    /// with a stride. Row i's output goes to out row i when `compact`, else to its batch row.
    @_optimize(speed)
    private func attendRows(_ batch: [ForwardRequest], _ rowStart: [Int], _ rows: [(s: Int, t: Int)],
                            layer l: Int, scale: Float, _ qkv: UnsafeMutablePointer<Float>,
                            out: UnsafeMutablePointer<Float>, compact: Bool) {
        let C = config.nEmbd, NH = config.nHead
        let maxLen = rows.map { batch[$0.s].cache.count + $0.t + 1 }.max()!
        let scores = scoreBuf.reserve(rows.count * NH * maxLen)
        Parallel.forEach(rows.count, parallel: rows.count >= 2) { i in
            let (s, t) = rows[i]
            let req = batch[s]
            let r = rowStart[s] + t
            attendRowAllHeads(cache: req.cache, layer: l, positions: req.cache.count + t + 1, scale: scale,
                              q: qkv + r * 3 * C, scores: scores + i * NH * maxLen, stride: maxLen,
                              out: out + (compact ? i : r) * C)
        }
    }

    /// One query row against positions 0..<positions for every head (SIMD path).
    /// scores is (NH, stride) scratch; out is the (C) row of concatenated head outputs.
    @_optimize(speed)
    @inline(__always)
    private func attendRowAllHeads(cache: KVCache, layer l: Int, positions: Int, scale: Float,
                                   q: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>, stride: Int,
                                   out: UnsafeMutablePointer<Float>) {
        let B = cache.pool.blockTokens, C = config.nEmbd, NH = config.nHead, HD = config.headDim
        var p = 0
        while p < positions {
            let base = cache.keys(layer: l, position: p)
            let end = min(positions, (p / B + 1) * B)
            for j in p..<end {
                let k = base + (j - p) * C
                for h in 0..<NH { scores[h * stride + j] = VectorOps.dot(q + h * HD, k + h * HD, HD) * scale }
            }
            p = end
        }
        for h in 0..<NH {
            let row = scores + h * stride
            let m = VectorOps.max(row, positions)
            let sum = VectorOps.expShiftedSum(row, positions, shift: m)
            VectorOps.scale(row, positions, 1 / sum)
        }
        out.update(repeating: 0, count: C)
        p = 0
        while p < positions {
            let base = cache.values(layer: l, position: p)
            let end = min(positions, (p / B + 1) * B)
            for j in p..<end {
                let v = base + (j - p) * C
                for h in 0..<NH { VectorOps.axpy(scores[h * stride + j], v + h * HD, out + h * HD, HD) }
            }
            p = end
        }
    }

    /// All new rows of the `seqs` sequences against their caches, one task per (sequence, head)
    /// (prefill path). Each head's keys and values are first gathered from the cache blocks into
    /// contiguous (len, HD) scratch of the task's thread, so a head costs two GEMMs however many
    /// blocks the sequence spans. With the project's kernels the tasks run on the pool, each GEMM
    /// on one thread; with OpenBLAS they run in turn and OpenBLAS threads each GEMM.
    @_optimize(speed)
    private func attendGemm(_ batch: [ForwardRequest], _ rowStart: [Int], _ seqs: [Int], layer l: Int, scale: Float,
                            _ qkv: UnsafeMutablePointer<Float>, _ attn: UnsafeMutablePointer<Float>) {
        let NH = config.nHead, HD = config.headDim
        var maxScores = 0, maxLen = 0
        for s in seqs {
            let len = batch[s].cache.count + batch[s].tokens.count
            maxScores = max(maxScores, min(batch[s].tokens.count, attentionRowBlock) * len); maxLen = max(maxLen, len)
        }
        let threads = Matmul.ownKernels ? Parallel.threads : 1
        let S = scoreBuf.reserve(threads * maxScores)      // per thread: (row block, len) scores of one head
        let K = gatherKBuf.reserve(threads * maxLen * HD)  // per thread: (len, HD) keys of one head
        let Vh = gatherVBuf.reserve(threads * maxLen * HD) // per thread: (len, HD) values of one head
        let body: (Int, Int) -> Void = { task, thread in
            let s = seqs[task / NH]
            self.attendHead(batch[s], rowStart[s], head: task % NH, layer: l, scale: scale, qkv, attn,
                            scores: S + thread * maxScores, keys: K + thread * maxLen * HD,
                            values: Vh + thread * maxLen * HD)
        }
        if threads > 1 { Parallel.run(seqs.count * NH, body) } else { for t in 0..<seqs.count * NH { body(t, 0) } }
    }

    /// One head of one sequence, in blocks of query rows: S = scale·Q·Kᵀ (block, visible positions; row
    /// stride len), causal softmax, O = P·V into attn's head columns.
    @_optimize(speed)
    @inline(__always)
    private func attendHead(_ req: ForwardRequest, _ r0: Int, head hd: Int, layer l: Int, scale: Float,
                            _ qkv: UnsafeMutablePointer<Float>, _ attn: UnsafeMutablePointer<Float>,
                            scores S: UnsafeMutablePointer<Float>, keys K: UnsafeMutablePointer<Float>,
                            values Vh: UnsafeMutablePointer<Float>) {
        let C = config.nEmbd, HD = config.headDim
        let cache = req.cache, B = cache.pool.blockTokens
        let T = req.tokens.count, past = cache.count, len = past + T
        var p = 0
        while p < len {
            let kb = cache.keys(layer: l, position: p) + hd * HD
            let vb = cache.values(layer: l, position: p) + hd * HD
            let end = min(len, (p / B + 1) * B)
            for j in p..<end {
                (K + j * HD).update(from: kb + (j - p) * C, count: HD)
                (Vh + j * HD).update(from: vb + (j - p) * C, count: HD)
            }
            p = end
        }
        // In blocks of query rows [i0, i1): those rows see positions < past + i1 only, so the
        // masked upper triangle is never computed (half the work of a long prompt's attention).
        var i0 = 0
        while i0 < T {
            let i1 = min(T, i0 + attentionRowBlock), rows = i1 - i0, seen = past + i1
            // S = scale · Q_h · K_hᵀ over the visible positions; (rows, seen) with row stride len.
            let q = qkv + (r0 + i0) * 3 * C + hd * HD
            Matmul.gemm(m: rows, n: seen, k: HD, alpha: scale, q, lda: 3 * C, K, ldb: HD, transB: true, beta: 0, S, ldc: len)
            // Causal softmax: row i sees positions 0...past+i; the rest of its block become 0.
            for i in 0..<rows {
                let row = S + i * len, valid = past + i0 + i + 1
                let m = VectorOps.max(row, valid)
                let sum = VectorOps.expShiftedSum(row, valid, shift: m)
                VectorOps.scale(row, valid, 1 / sum)
                if valid < seen { (row + valid).update(repeating: 0, count: seen - valid) }
            }
            // O_h = P · V_h.
            Matmul.gemm(m: rows, n: HD, k: seen, alpha: 1, S, lda: len, Vh, ldb: HD, transB: false,
                        beta: 0, attn + (r0 + i0) * C + hd * HD, ldc: C)
            i0 = i1
        }
    }

    /// ln_f on the rows anyone asked for, then the LM head on the rows that want logits.
    @_optimize(speed)
    private func outputs(_ batch: [ForwardRequest], _ rowStart: [Int], _ x: UnsafeMutablePointer<Float>,
                         C: Int, V: Int) -> [ForwardResult] {
        // Selected rows per sequence (union of logits and hidden selections).
        var selected: [[Int]] = []
        var total = 0
        for (s, req) in batch.enumerated() {
            let want = req.outputTokens
            selected.append(want.map { rowStart[s] + $0 })
            total += want.count
        }
        var results = [ForwardResult](repeating: ForwardResult(logits: [], hidden: [], logitRows: 0, hiddenRows: 0), count: batch.count)
        guard total > 0 else { return results }

        let fin = finalBuf.reserve(total * C)
        var finalRow: [[Int]] = []  // index into fin for each selected row
        var k = 0
        for rows in selected {
            var idx: [Int] = []
            for r in rows {
                LayerNormKernel.row(x + r * C, C, weights.lnFWeight.data, weights.lnFBias.data, config.layerNormEpsilon, fin + k * C)
                idx.append(k); k += 1
            }
            finalRow.append(idx)
        }

        // Logit rows: the last selected row for .last, all for .all.
        var logitRows: [Int] = []
        var logitRange: [Range<Int>] = []
        for (s, req) in batch.enumerated() {
            let start = logitRows.count
            switch req.logits {
            case .none: break
            case .last: logitRows.append(finalRow[s].last!)
            case .all: logitRows.append(contentsOf: finalRow[s])
            }
            logitRange.append(start..<logitRows.count)
        }
        var logits: UnsafeMutablePointer<Float>? = nil
        if !logitRows.isEmpty {
            let rl = logitRows.count
            let input: UnsafeMutablePointer<Float>
            if rl == total { input = fin }  // every selected row wants logits, in order
            else {
                input = logitInBuf.reserve(rl * C)
                for (i, r) in logitRows.enumerated() { (input + i * C).update(from: fin + r * C, count: C) }
            }
            let out = logitBuf.reserve(rl * V)
            Matmul.linear(input, m: rl, k: C, weights.lmHead, n: V, out, beta: 0)
            logits = out
        }

        for (s, req) in batch.enumerated() {
            var res = ForwardResult(logits: [], hidden: [], logitRows: 0, hiddenRows: 0)
            if let logits, !logitRange[s].isEmpty {
                let r = logitRange[s]
                res.logits = Array(UnsafeBufferPointer(start: logits + r.lowerBound * V, count: r.count * V))
                res.logitRows = r.count
            }
            switch req.hidden {
            case .none: break
            case .last:
                res.hidden = Array(UnsafeBufferPointer(start: fin + finalRow[s].last! * C, count: C)); res.hiddenRows = 1
            case .all:
                let first = finalRow[s].first!
                res.hidden = Array(UnsafeBufferPointer(start: fin + first * C, count: finalRow[s].count * C))
                res.hiddenRows = finalRow[s].count
            }
            results[s] = res
        }
        return results
    }

    // MARK: - Row helpers

    /// Every row of `into` (rows, width) = bias.
    @_optimize(speed)
    @inline(__always)
    private func broadcastRows(_ bias: UnsafePointer<Float>, width: Int, rows: Int, into: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { (into + r * width).update(from: bias, count: width) }
    }

    /// Every row of `into` (rows, width) += bias.
    @_optimize(speed)
    @inline(__always)
    private func addBiasRows(_ bias: UnsafePointer<Float>, width: Int, rows: Int, into: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { VectorOps.add(bias, into + r * width, width) }
    }
}
