// BPE — byte-pair merging of one pre-token, over token ids, with a bounded thread-safe cache.
//
// Semantics follow the Rust `tokenizers` BPE model (used by transformers' GPT-2 tokenizer): start from one
// symbol per byte, then repeatedly merge the adjacent pair with the lowest merge rank, the leftmost such
// pair on ties, until no adjacent pair has a rank. Short words use a linear scan, long ones a binary heap;
// both pick exactly the same pair at every step.

import Foundation

final class BPE: @unchecked Sendable {
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    private let merges: [UInt64: UInt64]
    /// Token id of each single byte (index = byte value).
    private let byteTokenID: [Int32]

    /// Cache of finished words: UTF-8 bytes of a pre-token → its ids. Guarded by `lock`.
    private var cache: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()
    /// The cache is emptied when it reaches this many words (bounded memory, adapts to new text).
    let cacheCapacity: Int
    /// Words longer than this (in bytes) are never cached.
    static let maxCachedWordBytes = 256
    /// Words with more bytes than this use the heap instead of the O(n²) scan.
    static let heapThreshold = 48

    init(merges: [UInt64: UInt64], byteTokenID: [Int32], cacheCapacity: Int = 50_000) {
        self.merges = merges
        self.byteTokenID = byteTokenID
        self.cacheCapacity = cacheCapacity
    }

    @inline(__always) static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: a)) << 32) | UInt64(UInt32(bitPattern: b))
    }

    /// Appends the ids of one pre-token (its UTF-8 bytes) to `out`.
    func encode(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        if word.count == 1 {
            out.append(Int(byteTokenID[Int(word[0])]))
            return
        }
        let cacheable = word.count <= BPE.maxCachedWordBytes
        var key: [UInt8] = []
        if cacheable {
            key = Array(word)
            lock.lock()
            let hit = cache[key]
            lock.unlock()
            if let hit {
                for id in hit { out.append(Int(id)) }
                return
            }
        }
        var symbols = word.map { byteTokenID[Int($0)] }
        if symbols.count > BPE.heapThreshold {
            mergeWithHeap(&symbols)
        } else {
            mergeWithScan(&symbols)
        }
        for id in symbols { out.append(Int(id)) }
        if cacheable {
            lock.lock()
            if cache.count >= cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = symbols
            lock.unlock()
        }
    }

    /// The ids of one pre-token without touching the cache (for tests and benchmarks).
    func encodeUncached(_ word: [UInt8], useHeap: Bool) -> [Int] {
        var symbols = word.map { byteTokenID[Int($0)] }
        if useHeap { mergeWithHeap(&symbols) } else { mergeWithScan(&symbols) }
        return symbols.map(Int.init)
    }

    /// Lowest (rank, position) first: rank per adjacent pair kept in `ranks`, recomputed around each merge.
    private func mergeWithScan(_ symbols: inout [Int32]) {
        if symbols.count < 2 { return }
        // ranks[i] = packed (rank << 32 | merged id) of pair (symbols[i], symbols[i+1]); UInt64.max = none.
        var ranks = [UInt64](repeating: .max, count: symbols.count - 1)
        for i in 0..<(symbols.count - 1) {
            ranks[i] = merges[BPE.pairKey(symbols[i], symbols[i + 1])] ?? .max
        }
        while !ranks.isEmpty {
            var best = 0
            var bestValue = ranks[0]
            for i in 1..<ranks.count where ranks[i] < bestValue {  // strict: leftmost wins ties
                bestValue = ranks[i]; best = i
            }
            if bestValue == .max { break }
            symbols[best] = Int32(truncatingIfNeeded: bestValue & 0xFFFF_FFFF)
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            if best > 0 {
                ranks[best - 1] = merges[BPE.pairKey(symbols[best - 1], symbols[best])] ?? .max
            }
            if best < ranks.count {
                ranks[best] = merges[BPE.pairKey(symbols[best], symbols[best + 1])] ?? .max
            }
        }
    }

    /// Same result as `mergeWithScan`, O(n log n): symbols in a linked list, candidate pairs in a min-heap
    /// ordered by (rank, position of the left symbol); entries made stale by earlier merges are skipped.
    private func mergeWithHeap(_ symbols: inout [Int32]) {
        let n = symbols.count
        if n < 2 { return }
        var ids = symbols
        var next = Array(1...n); next[n - 1] = -1
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        // Heap entries: (rank << 32 | position). The merged id is looked up again when popped.
        var heap: [UInt64] = []
        heap.reserveCapacity(n)
        func push(_ v: UInt64) {
            heap.append(v)
            var c = heap.count - 1
            while c > 0 {
                let p = (c - 1) / 2
                if heap[p] <= heap[c] { break }
                heap.swapAt(p, c); c = p
            }
        }
        func pop() -> UInt64 {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var p = 0
                while true {
                    let l = 2 * p + 1, r = l + 1
                    var m = p
                    if l < heap.count && heap[l] < heap[m] { m = l }
                    if r < heap.count && heap[r] < heap[m] { m = r }
                    if m == p { break }
                    heap.swapAt(p, m); p = m
                }
            }
            return top
        }
        func candidate(_ pos: Int) {
            let nx = next[pos]
            guard nx >= 0, let m = merges[BPE.pairKey(ids[pos], ids[nx])] else { return }
            push((m & 0xFFFF_FFFF_0000_0000) | UInt64(pos))
        }
        for i in 0..<(n - 1) { candidate(i) }
        while !heap.isEmpty {
            let top = pop()
            let rank = top >> 32
            let pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos] else { continue }
            let nx = next[pos]
            guard nx >= 0, let m = merges[BPE.pairKey(ids[pos], ids[nx])], m >> 32 == rank else { continue }
            ids[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            alive[nx] = false
            let after = next[nx]
            next[pos] = after
            if after >= 0 { prev[after] = pos }
            if prev[pos] >= 0 { candidate(prev[pos]) }
            candidate(pos)
        }
        symbols.removeAll(keepingCapacity: true)
        var p = 0
        while p >= 0 { symbols.append(ids[p]); p = next[p] }
    }
}
