// TokenTagger — GPT2ForTokenClassification + transformers' token-classification pipeline (NER).
//
//   logits[t] = classifier.weight · h[t] + classifier.bias      (num_labels) per token; dropout is a no-op
//   scores[t] = softmax(logits[t])                               Float, like the pipeline's numpy fp32
//   pre-entities: one per token (GPT-2 adds no special tokens; an in-text "<|endoftext|>" is NOT masked —
//     it is the unk id, so its word is the text slice and it always starts a word) with
//     word = raw byte-level token ("Ġname"), start/end = code-point offsets incl. the leading space,
//     is_subword = start > 0 && no " " in text[start−1 : start+1]   (GPT-2's BPE has no continuing-subword
//     prefix, so the pipeline uses this fallback heuristic)
//   none    → per token {entity = argmax label, score, index, word (raw token), start, end}
//   simple  → as none, then grouped
//   first | average | max → tokens fused into words first (a word = a non-subword token + following
//     subwords): first = the first token's argmax; max = the argmax of the token with the highest top
//     score (first such token); average = argmax of the mean score vectors; word = decoded tokens
//   grouping: B-/I- prefixes split off (no prefix = I); a token/word joins the open group when its tag
//     equals the group's last tag and it is not B; group = {entity_group = tag of its first member,
//     score = mean, word = decoded words, start of first, end of last}
//   ignore_labels (default ["O"]) filter after grouping (on entity / entity_group).
//   Long texts: without `stride`, ids are cut to `maxLength` (the pipeline truncates to the tokenizer's
//   model_max_length); with `stride` (grouped strategies only) windows of maxLength tokens overlap by
//   `stride` (tokenizers' overflow: starts 0, L−s, 2(L−s)…, last window ends at the text end), each window
//   is tagged and filtered alone, then entities are sorted by start and overlapping ones resolved
//   (longer span wins, then strictly higher score).
import Foundation
import GPT2Core
import GPT2Tokenizer

public enum AggregationStrategy: String, Sendable, CaseIterable {
    case none, simple, first, average, max
}

public struct TaggedEntity: Sendable, Equatable {
    /// `entity` (strategy none) or `entity_group` (every other strategy).
    public var label: String
    public var score: Double
    /// Token position (strategy none only).
    public var index: Int?
    public var word: String
    public var start: Int
    public var end: Int
}

/// The tokenized text and the windows to run.
public struct TaggingPlan: Sendable {
    public var text: String
    public var ids: [Int]
    public var offsets: [Range<Int>]
    /// Token ranges of `ids`, one HiddenRequest each.
    public var windows: [Range<Int>]
    public var requests: [HiddenRequest] {
        windows.map { HiddenRequest(ids: Array(ids[$0]), rows: .all) }
    }
}

public struct TokenTagger: Sendable {
    public let config: GPT2Config
    public let head: LinearHead
    public var numLabels: Int { head.outputs }

    public init(config: GPT2Config, weights: GPT2Weights) throws {
        self.config = config
        head = try TaskHeads.linear(weights, config: config, prefix: "classifier", task: .tag, withBias: true)
    }

    /// (a) Tokenize and cut into windows. `maxLength` defaults to n_positions.
    public func plan(_ text: String, tokenizer: GPT2Tokenizer, aggregation: AggregationStrategy,
                     maxLength: Int? = nil, stride: Int? = nil) throws -> TaggingPlan {
        let L = min(maxLength ?? config.nPositions, config.nPositions)
        guard L > 0 else { throw TaskError.invalidArgument("max_length must be > 0") }
        let (ids, offsets) = tokenizer.encodeWithOffsets(text)
        guard !ids.isEmpty else { throw TaskError.emptyInput(what: "text") }
        var windows: [Range<Int>] = []
        if let s = stride {
            guard s >= 0 && s < L else {
                throw TaskError.invalidArgument("`stride` must be less than `tokenizer.model_max_length` (\(L))")
            }
            guard aggregation != .none else {
                throw TaskError.invalidArgument("`stride` was provided to process all the text but `aggregation_strategy=\"none\"`, please select another one instead.")
            }
            var start = 0
            while true {
                let stop = min(start + L, ids.count)
                windows.append(start..<stop)
                if stop == ids.count { break }
                start += L - s
            }
        } else {
            windows = [0..<min(L, ids.count)]
        }
        return TaggingPlan(text: text, ids: ids, offsets: offsets, windows: windows)
    }

    /// Per-token logits of one window's rows (rows × C) → rows × num_labels.
    public func logits(hidden: [Float]) -> [[Float]] {
        let C = config.nEmbd
        return (0..<(hidden.count / C)).map { r in head.apply(hidden[(r * C)..<((r + 1) * C)]) }
    }

    struct PreEntity {
        var word: String
        var scores: [Float]
        var start: Int
        var end: Int
        var index: Int
        var isSubword: Bool
    }

    struct Entity {
        var entity: String
        var score: Float
        var index: Int?
        var word: String
        var start: Int
        var end: Int
    }

    /// (b) From each window's hidden rows to the pipeline's entities.
    public func finish(plan: TaggingPlan, hidden: [[Float]], tokenizer: GPT2Tokenizer,
                       aggregation: AggregationStrategy, ignoreLabels: [String] = ["O"]) -> [TaggedEntity] {
        finish(plan: plan, logits: hidden.map { logits(hidden: $0) }, tokenizer: tokenizer,
               aggregation: aggregation, ignoreLabels: ignoreLabels)
    }

    /// (b) From per-window token logits (window rows × num_labels) to the pipeline's entities.
    public func finish(plan: TaggingPlan, logits: [[[Float]]], tokenizer: GPT2Tokenizer,
                       aggregation: AggregationStrategy, ignoreLabels: [String] = ["O"]) -> [TaggedEntity] {
        let text = CodePoints(plan.text)
        let unk = tokenizer.endOfTextID
        var all: [Entity] = []
        for (w, window) in plan.windows.enumerated() {
            var pre: [PreEntity] = []
            for (row, t) in window.enumerated() {
                let id = plan.ids[t], o = plan.offsets[t]
                var word = tokenizer.tokenString(id) ?? ""
                var isSubword = o.lowerBound > 0 && !text.slice(o.lowerBound - 1, o.lowerBound + 1).contains(" ")
                if id == unk {
                    word = text.slice(o.lowerBound, o.upperBound)
                    isSubword = false
                }
                // `index` is the position inside the window (the pipeline's per-chunk idx).
                pre.append(PreEntity(word: word, scores: Activations.softmax(logits[w][row]), start: o.lowerBound,
                                     end: o.upperBound, index: row, isSubword: isSubword))
            }
            let grouped = aggregate(pre, aggregation)
            all += grouped.filter { !ignoreLabels.contains($0.entity) }
        }
        if plan.windows.count > 1 { all = resolveOverlaps(all) }
        return all.map { TaggedEntity(label: $0.entity, score: Double($0.score), index: $0.index, word: $0.word,
                                      start: $0.start, end: $0.end) }
    }

    func label(_ i: Int) -> String { TaskHeads.label(config, i) }

    func aggregate(_ pre: [PreEntity], _ strategy: AggregationStrategy) -> [Entity] {
        var entities: [Entity]
        switch strategy {
        case .none, .simple:
            entities = pre.map { p in
                let i = Activations.argmax(p.scores)
                return Entity(entity: label(i), score: p.scores[i], index: p.index, word: p.word, start: p.start, end: p.end)
            }
            if strategy == .none { return entities }
        case .first, .average, .max:
            var groups: [[PreEntity]] = []
            for p in pre {
                if p.isSubword, !groups.isEmpty { groups[groups.count - 1].append(p) } else { groups.append([p]) }
            }
            entities = groups.map { aggregateWord($0, strategy) }
        }
        return groupEntities(entities)
    }

    func aggregateWord(_ g: [PreEntity], _ strategy: AggregationStrategy) -> Entity {
        let word = ByteLevelText.decode(g.map(\.word))
        var idx: Int, score: Float
        switch strategy {
        case .max:
            // max(entities, key=top score): the first token with the highest top score
            var best = g[0]
            for p in g.dropFirst() where p.scores.max()! > best.scores.max()! { best = p }
            idx = Activations.argmax(best.scores); score = best.scores[idx]
        case .average:
            var avg = [Float](repeating: 0, count: g[0].scores.count)
            for p in g { for k in avg.indices { avg[k] += p.scores[k] } }
            avg = avg.map { $0 / Float(g.count) }
            idx = Activations.argmax(avg); score = avg[idx]
        default:
            idx = Activations.argmax(g[0].scores); score = g[0].scores[idx]
        }
        return Entity(entity: label(idx), score: score, index: nil, word: word, start: g[0].start, end: g.last!.end)
    }

    /// ("B"|"I", tag): "B-X" → (B, X), "I-X" → (I, X), anything else → (I, itself).
    static func tag(_ name: String) -> (bi: String, tag: String) {
        if name.hasPrefix("B-") { return ("B", String(name.dropFirst(2))) }
        if name.hasPrefix("I-") { return ("I", String(name.dropFirst(2))) }
        return ("I", name)
    }

    func groupEntities(_ entities: [Entity]) -> [Entity] {
        var groups: [Entity] = []
        var open: [Entity] = []
        func close() {
            guard let first = open.first else { return }
            // entity_group = first member's label after the first "-" (split("-", 1)[-1])
            let name: String
            if let dash = first.entity.firstIndex(of: "-") { name = String(first.entity[first.entity.index(after: dash)...]) }
            else { name = first.entity }
            let mean = open.reduce(Float(0)) { $0 + $1.score } / Float(open.count)
            groups.append(Entity(entity: name, score: mean, index: nil, word: ByteLevelText.decode(open.map(\.word)),
                                 start: first.start, end: open.last!.end))
        }
        for e in entities {
            guard let last = open.last else { open = [e]; continue }
            let (bi, t) = Self.tag(e.entity)
            if t == Self.tag(last.entity).tag && bi != "B" { open.append(e) } else { close(); open = [e] }
        }
        close()
        return groups
    }

    /// aggregate_overlapping_entities: stable sort by start; an entity starting inside the kept one
    /// replaces it when longer, or as long with a strictly higher score.
    func resolveOverlaps(_ entities: [Entity]) -> [Entity] {
        guard !entities.isEmpty else { return entities }
        let sorted = entities.enumerated().sorted { $0.element.start != $1.element.start ? $0.element.start < $1.element.start : $0.offset < $1.offset }.map(\.element)
        var out: [Entity] = []
        var prev = sorted[0]
        for e in sorted {
            if prev.start <= e.start && e.start < prev.end {
                let cur = e.end - e.start, old = prev.end - prev.start
                if cur > old || (cur == old && e.score > prev.score) { prev = e }
            } else {
                out.append(prev); prev = e
            }
        }
        out.append(prev)
        return out
    }

    /// Convenience: plan, run, finish.
    public func run(_ text: String, tokenizer: GPT2Tokenizer, runner: TaskRunner,
                    aggregation: AggregationStrategy = .none, ignoreLabels: [String] = ["O"],
                    maxLength: Int? = nil, stride: Int? = nil) throws -> [TaggedEntity] {
        let p = try plan(text, tokenizer: tokenizer, aggregation: aggregation, maxLength: maxLength, stride: stride)
        let hidden = try runner.hiddenStates(p.requests)
        return finish(plan: p, hidden: hidden, tokenizer: tokenizer, aggregation: aggregation, ignoreLabels: ignoreLabels)
    }
}
