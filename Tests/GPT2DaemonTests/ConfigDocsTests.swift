// ConfigDocsTests — systemd/gpt2d.conf.example documents exactly the settings table: every key once, in
// table order, with the table's default, and "SIGHUP applies it" in the comment of exactly the live keys.

import Foundation
@testable import GPT2Daemon
import Testing

@Suite struct ConfigDocsTests {
    /// The example's `key = value` lines (commented-out ones too) with the comment lines just above each.
    private func entries() throws -> [(key: String, value: String, commented: Bool, comment: String)] {
        let text = try String(contentsOfFile: TestPaths.repoRoot + "/systemd/gpt2d.conf.example", encoding: .utf8)
        var out: [(String, String, Bool, String)] = []
        var comment: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let commented = line.hasPrefix("#")
            let body = commented ? String(line.dropFirst()) : line
            if let eq = body.range(of: " = "), !body.hasPrefix(" "),
               DaemonSettings.setting(forKey: String(body[..<eq.lowerBound])) != nil {
                out.append((String(body[..<eq.lowerBound]), String(body[eq.upperBound...]), commented,
                            comment.joined(separator: " ")))
            } else if commented {
                comment.append(body)
            } else {
                comment = []
            }
        }
        return out
    }

    @Test func exampleListsExactlyTheTableInOrder() throws {
        var keys: [String] = []
        for e in try entries() where keys.last != e.key { keys.append(e.key) }
        #expect(keys == DaemonSettings.all.map(\.key))
    }

    @Test func exampleValuesAreTheDefaults() throws {
        for e in try entries() where !e.commented {
            let setting = try #require(DaemonSettings.setting(forKey: e.key))
            if let d = setting.defaultText { #expect(e.value == d, "\(e.key) documented as \(e.value), default \(d)") }
        }
    }

    @Test func exampleMarksExactlyTheLiveKeys() throws {
        for e in try entries() where !e.commented {
            let setting = try #require(DaemonSettings.setting(forKey: e.key))
            #expect(e.comment.contains("SIGHUP applies it") == (setting.reload == .live), "\(e.key)")
        }
    }
}
