import Testing
@testable import GPT2JSON

@Suite struct JSONParseTests {
    func p(_ s: String, maxDepth: Int = 64) throws(JSONError) -> JSON { try JSON.parse(s, maxDepth: maxDepth) }

    func reason(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONError.Reason? {
        do { _ = try JSON.parse(bytes, maxDepth: maxDepth); return nil } catch { return error.reason }
    }
    func reason(_ s: String, maxDepth: Int = 64) -> JSONError.Reason? { reason(Array(s.utf8), maxDepth: maxDepth) }

    @Test func scalars() throws {
        #expect(try p("null") == .null)
        #expect(try p("true") == .bool(true))
        #expect(try p(" false ") == .bool(false))
        #expect(try p("123") == .int(123))
        #expect(try p("-7") == .int(-7))
        #expect(try p("0") == .int(0))
        #expect(try p("1.5") == .double(1.5))
        #expect(try p("-2.5e-3") == .double(-0.0025))
        #expect(try p("1E3") == .double(1000))
        #expect(try p("\"hi\"") == .string("hi"))
        #expect(try p("[1,2]\n") == [1, 2])
    }

    @Test func int64Limits() throws {
        #expect(try p("9223372036854775807") == .int(.max))
        #expect(try p("-9223372036854775808") == .int(.min))
        // json-c would clamp or switch to uint64 silently; we refuse.
        #expect(reason("9223372036854775808") == .integerOutOfRange)
        #expect(reason("-9223372036854775809") == .integerOutOfRange)
        #expect(reason("[18446744073709551616]") == .integerOutOfRange)
        // A big number written as a double stays a double.
        #expect(try p("1e20") == .double(1e20))
    }

    @Test func objectsKeepOrderAndLastDuplicateWins() throws {
        let v = try p(#"{"b":1,"a":[true,null],"c":{"d":"e"}}"#)
        #expect(v.objectValue?.keys == ["b", "a", "c"])
        #expect(v["a"] == [true, nil])
        #expect(v["c"]?["d"]?.stringValue == "e")
        let d = try p(#"{"a":1,"a":2,"b":3}"#)
        #expect(d.objectValue?.keys == ["a", "b"])
        #expect(d["a"] == .int(2))
    }

    @Test func unicode() throws {
        #expect(try p(#""héllo 世界 😀""#) == .string("héllo 世界 😀"))
        #expect(try p(#""\u00e9\u4e16""#) == .string("é世"))
        #expect(try p(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try p(#""\n\t\"\\\/\b\f\r""#) == .string("\n\t\"\\/\u{8}\u{c}\r"))
        #expect(try p(#""\u0000""#) == .string("\u{0}"))
        // json-c replaces a lone surrogate escape with U+FFFD (documented, accepted).
        #expect(try p(#""\ud800""#) == .string("\u{FFFD}"))
        #expect(try p(#""\udc00x""#) == .string("\u{FFFD}x"))
    }

    @Test func invalidUTF8() {
        #expect(reason([0x22, 0xFF, 0x22]) == .invalidUTF8)
        #expect(reason([0x22, 0xC0, 0xAF, 0x22]) == .invalidUTF8)  // overlong "/"
        #expect(reason([0x22, 0xE0, 0x80, 0xAF, 0x22]) == .invalidUTF8)  // overlong 3-byte
        #expect(reason([0x22, 0xED, 0xA0, 0x80, 0x22]) == .invalidUTF8)  // encoded surrogate
        #expect(reason([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]) == .invalidUTF8)  // > U+10FFFF
        #expect(reason([0x22, 0xE4, 0xB8, 0x22]) == .invalidUTF8)  // truncated sequence
        #expect(reason([0x22, 0x80, 0x22]) == .invalidUTF8)  // lone continuation
        do { _ = try JSON.parse([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D]); Issue.record("accepted") } catch {
            #expect(error.offset == 3)
        }
    }

    @Test func malformed() {
        #expect(reason("") == .incomplete)
        #expect(reason("   ") == .incomplete)
        #expect(reason("[1") == .incomplete)
        #expect(reason(#"{"a":"#) == .incomplete)
        #expect(reason(#""abc"#) == .incomplete)
        #expect(reason("tru") == .incomplete)
        #expect(reason("[1,]") == .syntax)
        #expect(reason(#"{"a":1,}"#) == .syntax)
        #expect(reason("'a'") == .syntax)
        #expect(reason("{a:1}") == .syntax)
        #expect(reason("[1] x") == .syntax)
        #expect(reason("1 2") == .syntax)
        #expect(reason("{}{}") == .syntax)
        #expect(reason(#""\x""#) == .syntax)
        #expect(reason(#""\u12""#) == .syntax)
        #expect(reason("nul") == .incomplete)
        #expect(reason("nan") == .syntax)
        #expect(reason(".5") == .syntax)
        #expect(reason("+1") == .syntax)
        #expect(reason("0x10") == .syntax)
    }

    @Test func numbersOutsideTheGrammar() {
        for bad in ["01", "-01", "1.", "-", "1e", "1e+", "[-01]", "1.2.3", "1-2"] {
            #expect(reason(bad) == .invalidNumber, "\(bad)")
        }
    }

    @Test func nonFiniteLiteralsRejected() {
        for bad in ["NaN", "Infinity", "-Infinity", "[NaN]", #"{"a":Infinity}"#, "1e999", "-1e999"] {
            #expect(reason(bad) == .nonFiniteNumber, "\(bad)")
        }
        // Inside strings those words are just text.
        #expect((try? p(#""NaN Infinity""#)) == .string("NaN Infinity"))
    }

    @Test func controlCharacters() {
        #expect(reason("\"a\tb\"") == .controlCharacter)  // json-c alone accepts this
        #expect(reason("\"a\nb\"") == .controlCharacter)
        #expect(reason([0x22, 0x61, 0x00, 0x22]) == .controlCharacter)
        #expect(reason([0x5B, 0x31, 0x00, 0x5D]) == .controlCharacter)
        #expect(reason([0x01]) == .controlCharacter)
        #expect((try? p("\t[1,\r\n2]\n")) == [1, 2])
    }

    @Test func depthLimit() throws {
        func nest(_ d: Int) -> String { String(repeating: "[", count: d) + String(repeating: "]", count: d) }
        #expect(try p(nest(4), maxDepth: 4) == [[[[]]]])
        #expect(try p("[[[[1]]]]", maxDepth: 4) == [[[[1]]]])
        #expect(reason("[[[[[1]]]]]", maxDepth: 4) == .tooDeep)
        #expect(reason(nest(5), maxDepth: 4) == .tooDeep)
        #expect(try p("1", maxDepth: 0) == 1)
        #expect(reason("[]", maxDepth: 0) == .tooDeep)
        _ = try p(nest(64))
        #expect(reason(nest(65)) == .tooDeep)
        #expect(reason(String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100)) == .tooDeep)
    }

    @Test func rawBufferEntryPoint() throws {
        let bytes: [UInt8] = Array(#"{"x":[1,2.5,"s"]}"#.utf8)
        let v = try bytes.withUnsafeBytes { (b) throws(JSONError) -> JSON in try JSON.parse(b) }
        #expect(v == ["x": [1, 2.5, "s"]])
        #expect(try JSON.parse(bytes[...]) == v)
    }
}
