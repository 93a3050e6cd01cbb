// Fixtures — where the committed test fixtures live (written by scripts/make_fixtures.py).
// Tests find them relative to this file, so `swift test` works from any directory with no Python.
import Foundation

public enum Fixtures {
    /// The repository root (this file is Tests/GPT2TestSupport/Fixtures.swift).
    public static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Tests/Fixtures/models/<name>.
    public static func model(_ name: String) -> String { root + "/Tests/Fixtures/models/" + name }

    /// Tests/Fixtures/vocab/gpt2 (vocab.json + merges.txt, the real GPT-2 vocabulary).
    public static var vocabDirectory: String { root + "/Tests/Fixtures/vocab/gpt2" }

    /// One checkpoint fixture as MANIFEST.json lists it.
    public struct ModelFixture: Sendable, CustomStringConvertible {
        public let name: String
        public let dtype: String
        public let layout: String
        public let sharded: Bool
        public let logitTolerance: Float
        public let hiddenTolerance: Float
        public var directory: String { Fixtures.model(name) }
        public var description: String { name }
    }

    /// Every checkpoint fixture in Tests/Fixtures/models/MANIFEST.json.
    public static let modelFixtures: [ModelFixture] = {
        let path = root + "/Tests/Fixtures/models/MANIFEST.json"
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = obj["fixtures"] as? [[String: Any]] else { fatalError("cannot read \(path)") }
        return list.map { f in
            ModelFixture(name: f["name"] as! String, dtype: f["dtype"] as! String, layout: f["layout"] as! String,
                         sharded: f["sharded"] as! Bool,
                         logitTolerance: Float((f["logit_tolerance"] as! NSNumber).doubleValue),
                         hiddenTolerance: Float((f["hidden_tolerance"] as! NSNumber).doubleValue))
        }
    }()
}
