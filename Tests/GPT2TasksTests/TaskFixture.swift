// TaskFixture — one Tests/Fixtures/tasks/<name> checkpoint (written by scripts/make_task_fixtures.py) with
// its golden.json, model, tokenizer and a TaskRunner.
import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import GPT2Tokenizer
import Testing

struct TaskFixture {
    let name: String
    let golden: [String: Any]
    let model: GPT2Model
    let tokenizer: GPT2Tokenizer
    let runner: TaskRunner

    static func directory(_ name: String) -> String { Fixtures.root + "/Tests/Fixtures/tasks/" + name }

    init(_ name: String) throws {
        self.name = name
        let dir = Self.directory(name)
        let data = try #require(FileManager.default.contents(atPath: dir + "/golden.json"), "missing \(dir)/golden.json")
        golden = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        model = try GPT2Model.load(directory: dir)
        tokenizer = try GPT2Tokenizer.load(directory: dir)
        runner = TaskRunner(model: model)
    }

    var inputs: [[String: Any]] { golden["inputs"] as! [[String: Any]] }
    var cases: [[String: Any]] { golden["cases"] as! [[String: Any]] }
    var embed: [[String: Any]] { golden["embed"] as! [[String: Any]] }
}

/// JSON number(s) → Float/Double/Int.
func floats(_ x: Any?) -> [Float] { (x as! [NSNumber]).map { $0.floatValue } }
func ints(_ x: Any?) -> [Int] { (x as! [NSNumber]).map { $0.intValue } }
func double(_ x: Any?) -> Double { (x as! NSNumber).doubleValue }
func int(_ x: Any?) -> Int { (x as! NSNumber).intValue }
func offsets(_ x: Any?) -> [Range<Int>] { (x as! [[NSNumber]]).map { $0[0].intValue..<$0[1].intValue } }

/// |a − b| ≤ tol·max(1, |b|) element-wise.
func expectClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-4, _ what: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what()): \(a.count) vs \(b.count) values", sourceLocation: sourceLocation)
    guard a.count == b.count else { return }
    let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(worst <= tol, "\(what()): max relative difference \(worst)\n  got \(a)\n  want \(b)", sourceLocation: sourceLocation)
}

func expectClose(_ a: Double, _ b: Double, _ tol: Double = 1e-4, _ what: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(a - b) <= tol * max(1, abs(b)), "\(what()): \(a) vs \(b)", sourceLocation: sourceLocation)
}
