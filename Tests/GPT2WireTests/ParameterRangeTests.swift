// GPT2Parameters' ranges as the wire uses them: membership at the ends, and the phrase the wire's
// error messages quote (PROTOCOL.md's examples: "expected a number in (0, 1], got 1.5").
import Testing
import GPT2JSON
import GPT2Parameters
@testable import GPT2Wire

@Suite struct ParameterRangeTests {
    @Test func endsAndPhrases() {
        let r = GenerationParameterRanges.self
        #expect(r.temperature.expected == "a number > 0" && !r.temperature.contains(0.0) && r.temperature.contains(1e-9))
        #expect(r.topP.expected == "a number in (0, 1]" && !r.topP.contains(0.0) && r.topP.contains(1.0) && !r.topP.contains(1.0000001))
        #expect(r.minP.expected == "a number in [0, 1]" && r.minP.contains(0.0) && r.minP.contains(1.0))
        #expect(r.presencePenalty.expected == "a number in [-2, 2]" && r.presencePenalty.contains(-2.0) && !r.presencePenalty.contains(2.5))
        #expect(r.logitBias.expected == "a number in [-100, 100]")
        #expect(r.lengthPenalty.expected == "a finite number" && r.lengthPenalty.contains(-1e300) && !r.lengthPenalty.contains(Double.infinity))
        #expect(!r.temperature.contains(Double.nan) && !r.temperature.contains(Double.infinity))
        #expect(NumberRange(lower: .closed(0)).expected == "a number >= 0" && NumberRange(upper: .open(1.5)).expected == "a number < 1.5")
    }

    @Test func theWireQuotesTheRangesPhrase() {
        guard case .object(let o)? = try? JSON.parse(#"{"model":"m","prompt":"x","top_p":1.5}"#) else { Issue.record("parse"); return }
        do { _ = try GenerateRequest(from: o); Issue.record("accepted top_p 1.5") } catch {
            #expect(error.message == "field 'top_p': expected \(GenerationParameterRanges.topP.expected), got 1.5")
        }
    }
}
