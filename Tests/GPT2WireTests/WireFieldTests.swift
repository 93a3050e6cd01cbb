// The field table mechanism on its own: each presence kind (required, defaulted, optional, nullable,
// omitted when default), embedded fields, the order of errors and keys, and cross-field validation.
import Testing
import GPT2JSON
@testable import GPT2Wire

/// A type that uses every kind of field once.
struct WireFieldSample: WireObject {
    struct Extra: WireObject {
        var level = 3
        var tags: [String] = []
        static let wireDefaults = Extra()
        static let wireFields: [WireField<Self>] = [
            .omittedWhenDefault("level", \.level, .int(0...9)),
            .omittedWhenDefault("tags", \.tags, .strings()),
        ]
    }

    var name = ""
    var count = 7
    var note: String?
    var score: Double?
    var extra = Extra()

    static let wireDefaults = WireFieldSample()
    static let wireFields: [WireField<Self>] = [
        .required("name", \.name, .nonEmptyString),
        .defaulted("count", \.count, .int(1...100)),
        .optional("note", \.note, .string),
        .nullable("score", \.score, .number()),
    ] + Extra.wireFields.map { $0.embedded(at: \.extra) }

    func validateFields() throws(WireError) {
        if note == "forbidden" && count > 1 { throw WireError(.invalidField, "note and count disagree", field: "note") }
    }
}

@Suite struct WireFieldTests {
    func decode(_ text: String) throws -> WireFieldSample {
        guard case .object(let o) = try JSON.parse(text) else { throw WireError(.invalidRequest, "not an object") }
        return try WireFieldSample(from: o)
    }

    func error(_ text: String) -> WireError? {
        do { _ = try decode(text); return nil } catch { return error as? WireError }
    }

    func line(_ s: WireFieldSample) -> String { JSON.object(s.json()).serialized() }

    @Test func absentFieldsTakeTheirDefaults() throws {
        let s = try decode(#"{"name":"x"}"#)
        #expect(s == WireFieldSample(name: "x"))
        #expect(line(s) == #"{"name":"x","count":7,"score":null}"#)
    }

    @Test func nullCountsAsAbsent() throws {
        #expect(try decode(#"{"name":"x","count":null,"note":null,"score":null,"level":null}"#) == WireFieldSample(name: "x"))
        #expect(error(#"{"name":null}"#) == .missingField("name"))
    }

    @Test func everyFieldSetRoundTripsInTableOrder() throws {
        var s = WireFieldSample(name: "n", count: 2, note: "hi", score: 0.5)
        s.extra = .init(level: 5, tags: ["a"])
        #expect(line(s) == #"{"name":"n","count":2,"note":"hi","score":0.5,"level":5,"tags":["a"]}"#)
        #expect(try decode(line(s)) == s)
    }

    @Test func errorsNameTheFieldAndComeInTableOrder() {
        #expect(error(#"{"count":0}"#) == .missingField("name"))
        #expect(error(#"{"name":"x","count":0,"note":1}"#)?.message == "field 'count': expected an integer in [1, 100], got 0")
        #expect(error(#"{"name":"x","note":1}"#)?.field == "note")
        #expect(error(#"{"name":"x","level":10}"#)?.message == "field 'level': expected an integer in [0, 9], got 10")
        #expect(error(#"{"name":"x","tags":[1]}"#)?.message == "field 'tags': expected an array of strings, got 1")
    }

    @Test func crossFieldRulesRunAfterTheFields() {
        #expect(error(#"{"name":"x","note":"forbidden","count":2}"#)?.message == "note and count disagree")
        #expect(error(#"{"name":"x","note":"forbidden","count":1}"#) == nil)
        #expect(error(#"{"name":"","note":"forbidden","count":2}"#)?.field == "name")
    }

    @Test func arrayElementsAreNamedByIndex() throws {
        let codec = WireCodec<[[Int]]>.array(of: .array(of: .int(0...5), count: 1...2, countExpected: "one or two ints"))
        #expect(try codec.read([[1], [2, 3]], "m") == [[1], [2, 3]])
        #expect(throws: WireError.invalidField("m[1][0]", expected: "an integer in [0, 5]", got: 9)) { try codec.read([[1], [9]], "m") }
        #expect(throws: WireError.invalidField("m[0]", expected: "one or two ints", got: [])) { try codec.read([[]], "m") }
        #expect(throws: WireError.invalidField("m", expected: "an array", got: 1)) { try codec.read(1, "m") }
        #expect(codec.write([[1], [2, 3]]) == [[1], [2, 3]])
    }

    @Test func nullableCodecsAndChoices() throws {
        let scores = WireCodec<[Double?]>.array(of: WireCodec<Double>.number("a number or null").orNull)
        #expect(try scores.read([1, nil, 2.5], "s") == [1, nil, 2.5])
        #expect(scores.write([nil, 0.5]) == [nil, 0.5])
        let pooling = WireCodec<EmbedRequest.Pooling>.choice
        #expect(try pooling.read("mean", "pooling") == .mean)
        #expect(throws: WireError.invalidField("pooling", expected: #"one of "last", "mean""#, got: "max")) { try pooling.read("max", "pooling") }
        #expect(throws: WireError.invalidField("pooling", expected: "a string", got: 1)) { try pooling.read(1, "pooling") }
    }
}

/// A constant field: written in every object, checked on reading, stored nowhere.
@Suite struct WireConstantFieldTests {
    @Test func aConstantIsWrittenAndCheckedOnReading() throws {
        let line = JSON.object(MetricsResponse(text: "a 1\n").json()).serialized()
        #expect(line == #"{"content_type":"text/plain; version=0.0.4; charset=utf-8","text":"a 1\n"}"#)
        guard case .object(let o) = try JSON.parse(line) else { Issue.record("not an object"); return }
        #expect(try MetricsResponse(from: o).text == "a 1\n")

        func error(_ text: String) throws -> WireError? {
            guard case .object(let o) = try JSON.parse(text) else { return nil }
            do { _ = try MetricsResponse(from: o); return nil } catch { return error }
        }
        #expect(try error(#"{"text":"x"}"#) == .missingField("content_type"))
        let other = try error(#"{"content_type":"application/openmetrics-text","text":"x"}"#)
        #expect(other?.code == .invalidField && other?.field == "content_type")
    }
}
