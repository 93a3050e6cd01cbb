// SequenceText — the output stage of one generated sequence, off the compute thread. The engine hands
// it each sampled token (id and log-probabilities, text empty) and whether that token ends the
// sequence on the token level (EOS, max_new_tokens); on the request's OutputQueue the stage
// detokenizes it (StreamingDecoder), holds text back or cuts it at a stop string (StopTextFilter),
// streams the token's line and finally puts the text into the result.
//
// Stop strings are found here, after the fact: the stage records how many generated tokens the text
// keeps and wakes the engine, which ends the sequence at that token at its next loop. The engine may
// have computed a few more tokens meanwhile; the stage drops them unseen and the engine takes them
// back out of the sequence (context, KV cache, counts), so clients, sessions and the prompt cache see
// what a check on the compute thread would have given. A sequence with stop strings that ends on the
// token level waits, computing nothing, until the stage has checked its last token.
import Foundation
import GPT2Core
import GPT2Tokenizer

final class SequenceText: @unchecked Sendable {
    /// What the stage has found so far (read by the engine thread under `lock`).
    struct Verdict: Equatable {
        /// Generated tokens checked for stop strings, in order.
        var checked = 0
        /// Set once a stop string ended the text: the generated tokens kept (the token that
        /// completed the stop string is the last of them).
        var stopAfter: Int?
    }

    let queue: OutputQueue
    /// Whether the request has stop strings (without any, the engine never waits for the stage).
    let hasStops: Bool
    private let stream: Bool
    private let events: @Sendable (EngineEvent) -> Void
    /// Tells the engine a verdict it waits for is in (a stop, or the last token checked).
    private let wake: @Sendable () -> Void

    // Output-queue state.
    private var decoder: StreamingDecoder
    private var filter: StopTextFilter
    private var seen = 0
    private var stopped = false

    private let lock = NSLock()
    private var found = Verdict()

    init(queue: OutputQueue, tokenizer: GPT2Tokenizer, request: GenerationRequest,
         events: @escaping @Sendable (EngineEvent) -> Void, wake: @escaping @Sendable () -> Void) {
        self.queue = queue
        filter = StopTextFilter(stops: request.stop, includeStop: request.includeStopInOutput)
        hasStops = filter.hasStops
        decoder = StreamingDecoder(tokenizer: tokenizer)
        stream = request.stream
        self.events = events
        self.wake = wake
    }

    /// Engine thread: the next generated token (`token.text` empty); `ending` when it ends the
    /// sequence on the token level. Returns at once.
    func push(_ token: GeneratedToken, ending: SequenceStepper.Stop?) {
        queue.async { [self] in take(token, ending: ending) }
    }

    /// The engine's view of the stage (any thread).
    var verdict: Verdict { lock.lock(); defer { lock.unlock() }; return found }

    /// Runs `body` with the sequence's final text once every token pushed before is handled (the
    /// result is built there, after the last token line).
    func finish(_ body: @escaping @Sendable (String) -> Void) {
        queue.async { [self] in body(filter.text) }
    }

    /// Hands `event` over after every token pushed before (an error ends a stream in order).
    func send(_ event: EngineEvent) {
        let events = events
        queue.async { events(event) }
    }

    /// Output queue: one token's text, as the compute thread used to make it — an EOS token adds no
    /// text; a token-level end releases everything still held (decoder bytes, a stop string's
    /// possible start); a stop string ends the text and every later token is dropped.
    private func take(_ token: GeneratedToken, ending: SequenceStepper.Stop?) {
        guard !stopped else { return }  // computed after the stop string: never shown
        var text = ""
        var stop = false
        if ending != .eos {
            #if DEBUG
            TextWorkProbe.record()
            #endif
            let piece = filter.append(decoder.append(token.token))
            (text, stop) = (piece.release, piece.stopped)
        }
        if ending != nil && !stop {
            text += filter.append(decoder.flush()).release
            text += filter.finish()
        }
        seen += 1
        stopped = stop
        lock.lock()
        found.checked = seen
        if stop { found.stopAfter = seen }
        lock.unlock()
        if hasStops && (stop || ending != nil) { wake() }
        if stream {
            var t = token
            t.text = text
            events(.token(t))
        }
    }
}
