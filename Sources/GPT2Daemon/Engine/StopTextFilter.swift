// StopTextFilter — releases generated text to the client only when it can no longer turn out to be
// part of a stop string, and finds stop strings across token boundaries. Runs in a sequence's output
// stage (SequenceText) and on a beam result's output queue, never on the compute thread.
//
// Works on UTF-8 bytes of complete characters (the StreamingDecoder never yields half a character),
// so every cut falls on a character boundary: a held-back suffix starts where a stop string starts.

struct StopTextFilter {
    private let stops: [[UInt8]]
    private let longest: Int
    /// Keep the matched stop string in the text (vLLM's include_stop_str_in_output).
    private let includeStop: Bool
    /// All text produced so far (before a stop string, once one is found).
    private(set) var bytes: [UInt8] = []
    /// bytes[0..<released] have been handed to the client.
    private(set) var released = 0

    init(stops: [String], includeStop: Bool = false) {
        self.includeStop = includeStop
        self.stops = stops.map { Array($0.utf8) }.filter { !$0.isEmpty }
        longest = self.stops.map(\.count).max() ?? 0
    }

    /// Whether there is any stop string to look for.
    var hasStops: Bool { longest > 0 }

    /// Adds a piece of text; returns the text that is now safe to release and whether a stop string ended it.
    mutating func append(_ piece: String) -> (release: String, stopped: Bool) {
        let before = bytes.count
        bytes.append(contentsOf: piece.utf8)
        if longest == 0 { return (releaseUpTo(bytes.count), false) }
        // Earliest stop occurrence that involves the new bytes.
        let from = max(0, before - longest + 1)
        var hit: Int? = nil
        if bytes.count >= 1 {
            for start in from..<bytes.count {
                if let stop = stops.first(where: { matches($0, at: start) }) {
                    hit = includeStop ? start + stop.count : start
                    break
                }
            }
        }
        if let cut = hit {
            bytes.removeSubrange(cut...)
            return (releaseUpTo(cut), true)
        }
        return (releaseUpTo(bytes.count - heldBack()), false)
    }

    /// Releases everything still held (the generation ended without a stop string).
    mutating func finish() -> String { releaseUpTo(bytes.count) }

    /// The full text released or releasable.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    private func matches(_ stop: [UInt8], at start: Int) -> Bool {
        guard start + stop.count <= bytes.count else { return false }
        for i in 0..<stop.count where bytes[start + i] != stop[i] { return false }
        return true
    }

    /// Length of the longest unreleased suffix that is a proper prefix of some stop string.
    private func heldBack() -> Int {
        let avail = bytes.count - released
        var best = 0
        for stop in stops {
            var k = min(stop.count - 1, avail)
            while k > best {
                if bytes[(bytes.count - k)...].elementsEqual(stop[..<k]) { best = k; break }
                k -= 1
            }
        }
        return best
    }

    private mutating func releaseUpTo(_ end: Int) -> String {
        guard end > released else { return "" }
        let s = String(decoding: bytes[released..<end], as: UTF8.self)
        released = end
        return s
    }
}
