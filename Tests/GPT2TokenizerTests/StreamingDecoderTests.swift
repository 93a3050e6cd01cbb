import Testing
@testable import GPT2Tokenizer

@Suite struct StreamingDecoderTests {
    let tok = TestFixtures.gpt2

    @Test func emojiIsHeldUntilComplete() {
        var d = StreamingDecoder(tokenizer: tok)
        #expect(d.append(8582) == "")
        #expect(d.append(97) == "")
        #expect(d.append(245) == "🤗")
        #expect(d.flush() == "")
    }

    @Test func flushEmitsReplacementForUnfinishedCharacter() {
        var d = StreamingDecoder(tokenizer: tok)
        #expect(d.append(15496) == "Hello")
        #expect(d.append(8582) == "")
        #expect(d.flush() == "\u{FFFD}")
        #expect(d.append(995) == " world")  // usable again after flush
    }

    /// Concatenated output equals decode() for every corpus line, and no chunk of a valid text ever holds
    /// a replacement character (i.e. half a character).
    @Test func corpusStreamsLikeDecode() {
        var failures: [String] = []
        for line in TestFixtures.corpus {
            var d = StreamingDecoder(tokenizer: tok)
            var out = ""
            var partial = false
            for id in line.ids {
                let chunk = d.append(id)
                if chunk.unicodeScalars.contains("\u{FFFD}") { partial = true }
                out += chunk
            }
            out += d.flush()
            if !out.unicodeScalars.elementsEqual(line.decoded.unicodeScalars) || partial, failures.count < 5 {
                failures.append("\(TestFixtures.show(line.text)) partial=\(partial)")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    /// Invalid sequences too: the stream's concatenation equals decode().
    @Test func invalidSequencesStreamLikeDecode() {
        var failures: [String] = []
        for c in TestFixtures.decodeCases {
            var d = StreamingDecoder(tokenizer: tok)
            var out = ""
            for id in c.ids { out += d.append(id) }
            out += d.flush()
            if !out.unicodeScalars.elementsEqual(c.decoded.unicodeScalars), failures.count < 5 {
                failures.append("\(c.ids): \(TestFixtures.show(out)) ≠ \(TestFixtures.show(c.decoded))")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func completePrefixLength() {
        #expect(StreamingDecoder.completePrefixLength([]) == 0)
        #expect(StreamingDecoder.completePrefixLength([0x41]) == 1)
        #expect(StreamingDecoder.completePrefixLength([0x41, 0xF0, 0x9F]) == 1)      // valid start of a 4-byte char
        #expect(StreamingDecoder.completePrefixLength([0xF0, 0x9F, 0xA4, 0x97]) == 4)
        #expect(StreamingDecoder.completePrefixLength([0xE0, 0x80]) == 2)            // can never complete: emit
        #expect(StreamingDecoder.completePrefixLength([0xED, 0xA0]) == 2)            // surrogate: emit
        #expect(StreamingDecoder.completePrefixLength([0x80]) == 1)                  // lone continuation
        #expect(StreamingDecoder.completePrefixLength([0xC3]) == 0)
    }
}
