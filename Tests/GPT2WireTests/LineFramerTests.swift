import Testing
@testable import GPT2Wire

@Suite struct LineFramerTests {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }
    func lines(_ events: [LineFramer.Event]) -> [String] {
        events.map { e in
            switch e {
            case .line(let l): return String(decoding: l, as: UTF8.self)
            case .tooLong: return "<tooLong>"
            }
        }
    }

    @Test func severalLinesInOneChunk() {
        var f = LineFramer()
        #expect(lines(f.push(b("a\nbb\nccc\n"))) == ["a", "bb", "ccc"])
        #expect(f.bufferedByteCount == 0)
    }

    @Test func lineSplitAcrossChunks() {
        var f = LineFramer()
        #expect(lines(f.push(b("{\"op\":"))) == [])
        #expect(lines(f.push(b("\"health\"}"))) == [])
        #expect(f.bufferedByteCount == 15)
        #expect(lines(f.push(b("\n{\"op\""))) == [#"{"op":"health"}"#])
        #expect(lines(f.push(b(":1}\n"))) == [#"{"op":1}"#])
    }

    @Test func byteByByte() {
        var f = LineFramer()
        var out: [String] = []
        for byte in b("ab\r\n\ncd\n") { out += lines(f.push([byte])) }
        #expect(out == ["ab", "cd"])
    }

    @Test func emptyLinesAndCRLF() {
        var f = LineFramer()
        #expect(lines(f.push(b("\n\n\r\nx\r\ny\n\r\n"))) == ["x", "y"])
        // A CR not followed by LF stays part of the line.
        #expect(lines(f.push(b("a\rb\n"))) == ["a\rb"])
    }

    @Test func overLongLineThenGoodLine() {
        var f = LineFramer(maxLineBytes: 8)
        #expect(lines(f.push(b("12345678\n"))) == ["12345678"])  // exactly at the limit
        #expect(lines(f.push(b("12345678\r\n"))) == ["12345678"])  // CR doesn't count
        #expect(lines(f.push(b("123456789\n"))) == ["<tooLong>"])
        // Reported once while it streams in, the rest discarded, then framing resumes.
        #expect(lines(f.push(b("0123456789"))) == ["<tooLong>"])
        #expect(lines(f.push(b("0123456789"))) == [])
        #expect(lines(f.push(b("01234\nok\nfine"))) == ["ok"])
        #expect(lines(f.push(b("\n"))) == ["fine"])
        #expect(f.bufferedByteCount == 0)
    }

    @Test func overLongInOneChunkWithOthers() {
        var f = LineFramer(maxLineBytes: 4)
        #expect(lines(f.push(b("a\n0123456789\nb\n"))) == ["a", "<tooLong>", "b"])
        #expect(lines(f.push(b("xxxxxxxxxxxx"))) == ["<tooLong>"])
        #expect(lines(f.push(b("yyyy\nc\n"))) == ["c"])
    }

    @Test func finishDeliversUnterminatedLine() {
        var f = LineFramer()
        _ = f.push(b("tail"))
        #expect(lines(f.finish()) == ["tail"])
        #expect(lines(f.finish()) == [])
        var g = LineFramer(maxLineBytes: 2)
        _ = g.push(b("abc"))
        #expect(lines(g.finish()) == ["<tooLong>"])
        #expect(g.tooLongError.code == .lineTooLong)
    }

    @Test func invalidUTF8PassesThroughTheFramer() {
        var f = LineFramer()
        #expect(f.push([0xFF, 0x0A]) == [.line([0xFF])])
    }
}
