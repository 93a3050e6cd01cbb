// rejectDuplicateKeys: a key twice in one object is an error with its offset; the same key in other
// objects, string values equal to a key, and keys written with escapes are told apart correctly; large
// objects keep their order.
import Testing
@testable import GPT2JSON

@Suite struct JSONDuplicateKeyTests {
    func strict(_ s: String) throws(JSONError) -> JSON { try JSON.parse(s, rejectDuplicateKeys: true) }

    func failure(_ s: String) -> JSONError? {
        do { _ = try strict(s); return nil } catch { return error }
    }

    @Test func duplicateIsAnErrorWithItsOffset() throws {
        let e = failure(#"{"a":1,"b":2,"a":3}"#)
        #expect(e?.reason == .duplicateKey)
        #expect(e?.offset == 13)
        #expect(e?.message == #"duplicate key "a""#)
        // Without the option the last value wins, at the first position.
        #expect(try JSON.parse(#"{"a":1,"b":2,"a":3}"#) == ["a": 3, "b": 2])
    }

    @Test func nestedObjectsHaveTheirOwnKeys() throws {
        let v = try strict(#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":"a"}"#)
        #expect(v["b"]?[1]?["a"] == 2)
        #expect(failure(#"{"x":[{"a":1,"a":2}]}"#)?.reason == .duplicateKey)
        #expect(failure(#"{"x":{"y":1},"z":{"y":2,"y":3}}"#)?.reason == .duplicateKey)
    }

    @Test func valuesAreNotKeys() throws {
        #expect(try strict(#"{"a":"a","b":["a","a"],"c":{"d":"a"}}"#)["b"] == ["a", "a"])
        #expect(try strict(#"{"a":"b","b":"a"}"#).objectValue?.count == 2)
    }

    @Test func escapedKeysCompareDecoded() {
        #expect(failure(#"{"a":1,"\u0061":2}"#)?.message == #"duplicate key "a""#)
        #expect(failure(#"{"\"q":1,"\u0022q":2}"#)?.reason == .duplicateKey)
        #expect(failure(#"{"\\":1,"\u005c":2}"#)?.reason == .duplicateKey)
        #expect(failure(#"{"a\n":1,"a\u000a":2}"#)?.reason == .duplicateKey)
        #expect((try? strict(#"{"a":1,"\u0062":2,"ab":3}"#)) == ["a": 1, "b": 2, "ab": 3])
    }

    @Test func emptyObjectsAndEmptyKeys() throws {
        #expect(try strict(#"{"":1,"a":{},"b":[]}"#).objectValue?.keys == ["", "a", "b"])
        #expect(failure(#"{"":1,"":2}"#)?.reason == .duplicateKey)
    }

    @Test func largeObjectsKeepOrder() throws {
        let keys = (0..<5000).map { "k\($0)" }
        let text = "{" + keys.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        #expect(try strict(text).objectValue?.keys == keys)
        #expect(try JSON.parse(text).objectValue?.keys == keys)
    }
}
