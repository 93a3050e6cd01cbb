import Testing
@testable import GPT2Tokenizer

@Suite struct ConcurrencyTests {
    /// Many tasks encoding at once on one tokenizer (cold cache, tiny capacity so it is emptied often)
    /// give the same ids as the golden corpus.
    @Test func concurrentEncodesAreIdentical() async throws {
        let shared = GPT2Tokenizer(vocabulary: TestFixtures.gpt2.vocabulary, cacheCapacity: 64)
        let corpus = Array(TestFixtures.corpus.prefix(1500))
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var bad = 0
                    // Each task walks the corpus from a different starting point.
                    for k in 0..<corpus.count {
                        let line = corpus[(k + task * 97) % corpus.count]
                        if shared.encode(line.text) != line.ids { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
