import Testing
@testable import GPT2JSON

@Suite struct JSONSerializeTests {
    @Test func oneLineNoSpaces() {
        let v: JSON = ["a": [1, 2, ["b": nil]], "c": "x/y", "d": true]
        #expect(v.serialized() == #"{"a":[1,2,{"b":null}],"c":"x/y","d":true}"#)
        #expect(JSON.array([]).serialized() == "[]")
        #expect(JSON.object([:]).serialized() == "{}")
        #expect(JSON.null.serialized() == "null")
        #expect(JSON.string("").serialized() == #""""#)
    }

    @Test func keyOrderFollowsInsertion() {
        var o = JSONObject()
        o["z"] = 1; o["a"] = 2; o["m"] = 3; o["a"] = 4
        #expect(JSON.object(o).serialized() == #"{"z":1,"a":4,"m":3}"#)
        o["z"] = nil
        #expect(JSON.object(o).serialized() == #"{"a":4,"m":3}"#)
    }

    @Test func escapes() {
        #expect(JSON.string("q\"b\\n\n r\r t\t \u{8}\u{c}").serialized() == #""q\"b\\n\n r\r t\t \b\f""#)
        #expect(JSON.string("\u{0}\u{1}\u{1f}").serialized() == #""\u0000\u0001\u001f""#)
        #expect(JSON.string("é世😀").serialized() == "\"é世😀\"")  // raw UTF-8, not \u escapes
        #expect(JSON.string("a/b").serialized() == #""a/b""#)
    }

    @Test func numbers() {
        #expect(JSON.int(-42).serialized() == "-42")
        #expect(JSON.int(.max).serialized() == "9223372036854775807")
        #expect(JSON.int(.min).serialized() == "-9223372036854775808")
        #expect(JSON.double(0.1).serialized() == "0.1")
        #expect(JSON.double(1.0).serialized() == "1.0")
        #expect(JSON.double(-2.5e-7).serialized() == "-2.5e-07")
        #expect(JSON.double(1e300).serialized() == "1e+300")
        #expect(JSON.float(0.1).serialized() == "0.1")
        #expect(JSON.float(-3.4028235e38).serialized() == "-3.4028235e+38")
        #expect(JSON.float(1.0 / 3.0).serialized() == "0.33333334")
    }

    @Test func nonFiniteBecomesNull() {
        #expect(JSON.double(.nan).serialized() == "null")
        #expect(JSON.double(.infinity).serialized() == "null")
        #expect(JSON.float(-.infinity).serialized() == "null")
        #expect(JSON.array([.double(-.infinity), 1.5]).serialized() == "[null,1.5]")
    }

    @Test func roundTrips() throws {
        let values: [JSON] = [
            nil, true, 0, -1, .int(.max), .int(.min), 0.1, -0.0, 1e-300, .double(.leastNonzeroMagnitude), .double(.greatestFiniteMagnitude),
            "", "plain", "esc \" \\ / \n \u{0} \u{7f}", "😀 世界 é", ["k": [1, [2, [3, ["x": nil]]]]],
            .array((0..<100).map { .double(Double($0) / 7) }),
        ]
        for v in values {
            let back = try JSON.parse(v.serializedBytes())
            #expect(back == v, "\(v.serialized())")
        }
    }

    @Test func accessors() {
        let v: JSON = ["s": "x", "i": 3, "d": 2.5, "b": false, "a": [1], "n": nil]
        #expect(v["s"]?.stringValue == "x")
        #expect(v["i"]?.intValue == 3)
        #expect(v["i"]?.doubleValue == 3)
        #expect(v["d"]?.doubleValue == 2.5)
        #expect(v["d"]?.intValue == nil)
        #expect(v["b"]?.boolValue == false)
        #expect(v["a"]?.arrayValue == [1])
        #expect(v["a"]?[0] == 1)
        #expect(v["n"]?.isNull == true)
        #expect(v["missing"] == nil)
        #expect(v["i"]?.typeName == "integer")
    }

    @Test func objectEqualityIgnoresOrder() {
        #expect(JSON.object(["a": 1, "b": 2]) == JSON.object(["b": 2, "a": 1]))
        #expect(JSON.object(["a": 1]) != JSON.object(["a": 1, "b": 2]))
        #expect(JSONObject([("a", 1), ("a", 2)]) == ["a": 2])
    }
}

/// The writer against json-c's own output (libjson-c 0.16, JSON_C_TO_STRING_PLAIN |
/// JSON_C_TO_STRING_NOSLASHESCAPE, recorded from it): every ASCII byte alone in a string, keys escaped
/// like strings, and the shapes json-c prints without spaces.
@Suite struct JSONWriterMatchesJSONCTests {
    /// What json-c printed for each of the bytes 0…127 alone in a string (the rest: the byte itself).
    static func jsoncEscape(_ b: UInt8) -> String {
        switch b {
        case 0x08: return #"\b"#
        case 0x09: return #"\t"#
        case 0x0A: return #"\n"#
        case 0x0C: return #"\f"#
        case 0x0D: return #"\r"#
        case 0x22: return #"\""#
        case 0x5C: return #"\\"#
        case 0..<0x20: return "\\u00" + String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
        default: return String(UnicodeScalar(b))
        }
    }

    @Test func everyASCIIByteIsWrittenAsJSONCWritesIt() {
        for b in UInt8(0)...0x7F {
            let s = String(UnicodeScalar(b))
            #expect(JSON.string(s).serialized() == "\"" + Self.jsoncEscape(b) + "\"", "byte \(b)")
            #expect(JSON.object(JSONObject([(s, JSON.int(1))])).serialized() == "{\"" + Self.jsoncEscape(b) + "\":1}", "key byte \(b)")
        }
        let all = String(decoding: Array(UInt8(0)...0x7F), as: UTF8.self)
        #expect(JSON.string(all).serialized() == "\"" + (UInt8(0)...0x7F).map(Self.jsoncEscape).joined() + "\"")
    }

    @Test func largeValuesAreOneLineInOrder() throws {
        let tokens = JSON.array((0..<50_000).map { .int(Int64($0 * 7 - 1000)) })
        let body: JSON = ["tokens": tokens, "text": .string(String(repeating: "ab\"c\n", count: 10_000))]
        var out: [UInt8] = Array("x".utf8)
        body.write(into: &out)
        #expect(out.first == UInt8(ascii: "x") && !out.contains(0x0A))
        #expect(try JSON.parse(out.dropFirst()) == body)
    }
}
