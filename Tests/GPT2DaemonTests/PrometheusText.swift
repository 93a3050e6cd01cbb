// PrometheusText — a reader of the Prometheus text exposition (format 0.0.4) for the metrics tests:
// `# HELP` / `# TYPE` lines and samples `name{label="value",…} value`, label values unescaped.
// Strict: a line it cannot read is an error, so a malformed exposition fails the test.

struct PrometheusSample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

struct PrometheusText {
    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var description: String { "unreadable exposition line: \(line)" }
    }

    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [PrometheusSample] = []
    /// Family names in the order their TYPE lines came.
    var familyOrder: [String] = []

    init(_ text: String) throws {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.isEmpty { continue }
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                guard let sp = rest.firstIndex(of: " ") else { throw ParseError(line: line) }
                help[String(rest[..<sp])] = String(rest[rest.index(after: sp)...])
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw ParseError(line: line) }
                types[String(parts[2])] = String(parts[3])
                familyOrder.append(String(parts[2]))
            } else if line.hasPrefix("#") {
                continue
            } else {
                samples.append(try Self.sample(line))
            }
        }
    }

    private static func sample(_ line: String) throws -> PrometheusSample {
        let chars = Array(line)
        var i = 0
        var name = ""
        while i < chars.count, chars[i] != "{", chars[i] != " " { name.append(chars[i]); i += 1 }
        var labels: [String: String] = [:]
        if i < chars.count, chars[i] == "{" {
            i += 1
            while i < chars.count, chars[i] != "}" {
                var key = ""
                while i < chars.count, chars[i] != "=" { key.append(chars[i]); i += 1 }
                guard i + 1 < chars.count, chars[i + 1] == "\"" else { throw ParseError(line: line) }
                i += 2
                var value = ""
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count {
                        i += 1
                        value.append(chars[i] == "n" ? "\n" : chars[i])
                    } else {
                        value.append(chars[i])
                    }
                    i += 1
                }
                guard i < chars.count else { throw ParseError(line: line) }
                i += 1  // closing quote
                labels[key] = value
                if i < chars.count, chars[i] == "," { i += 1 }
            }
            guard i < chars.count else { throw ParseError(line: line) }
            i += 1  // }
        }
        guard i < chars.count, chars[i] == " ", let value = Double(String(chars[(i + 1)...])), !name.isEmpty else {
            throw ParseError(line: line)
        }
        return PrometheusSample(name: name, labels: labels, value: value)
    }

    /// The value of the one series `name` whose labels are exactly `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The sum over the series `name` whose labels include `matching`.
    func sum(_ name: String, matching: [String: String] = [:]) -> Double {
        samples.filter { s in s.name == name && matching.allSatisfy { s.labels[$0.key] == $0.value } }.reduce(0) { $0 + $1.value }
    }

    /// The family a sample belongs to (a histogram's `_bucket`, `_sum` and `_count` series are its family's).
    func family(of sample: PrometheusSample) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where sample.name.hasSuffix(suffix) {
            let base = String(sample.name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return sample.name
    }
}
