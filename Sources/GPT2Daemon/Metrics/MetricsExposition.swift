// MetricsExposition — the registry's Prometheus text (format 0.0.4) made into what gpt2d serves:
// families sorted by name (the registry emits them in hash order, different in every process),
// each led by its `# HELP` line from MetricFamilies (swift-metrics' API carries no help text, and
// `promtool check metrics` wants one per family), the samples of a counter or gauge sorted, a
// histogram's lines kept in the registry's order (buckets ascending, then _sum and _count per series).
// A family the catalog does not know (a library's metrics through the bootstrapped factory) keeps
// its lines without a help line.
import Foundation
import GPT2Wire

enum MetricsExposition {
    /// The Content-Type of the text (GET /metrics): the wire protocol's constant.
    static let contentType = MetricsResponse.contentType

    /// `registryText` (PrometheusCollectorRegistry.emit) with help lines, in name order.
    static func render(_ registryText: String, families: [String: MetricFamily] = MetricFamilies.byName) -> String {
        var blocks: [(name: String, type: String, samples: [Substring])] = []
        for line in registryText.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                blocks.append((parts.count > 2 ? String(parts[2]) : "", String(line), []))
            } else if line.hasPrefix("#") {
                continue  // a registry help line (none today): ours replace it
            } else if !blocks.isEmpty {
                blocks[blocks.count - 1].samples.append(line)
            }
        }
        var out = ""
        for block in blocks.sorted(by: { $0.name < $1.name }) {
            if let family = families[block.name] { out += "# HELP \(block.name) \(escapeHelp(family.help))\n" }
            out += block.type + "\n"
            let samples = block.type.hasSuffix(" histogram") ? block.samples : block.samples.sorted()
            for s in samples {
                out.append(contentsOf: s)
                out += "\n"
            }
        }
        return out
    }

    /// A help text as the format wants it: backslash and line feed escaped.
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

