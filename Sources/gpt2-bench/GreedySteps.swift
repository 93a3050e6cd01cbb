// GreedySteps — the sequences the decode timings step: b prompts prefilled together in one forward
// pass (not timed), each a greedy sequence of GPT2Core's one generation loop (GPT2Runner.decode)
// with no EOS and max_new_tokens = steps + 1, so decoding them runs exactly `steps` batched
// forward passes (the last token is picked but never fed).
import GPT2Core

enum GreedySteps {
    static func prefill(_ runner: GPT2Runner, pool: KVBlockPool, prompts: [[Int32]], steps: Int) throws -> [GeneratingSequence] {
        let caches = prompts.map { _ in KVCache(pool: pool) }
        let out = try runner.forward(zip(caches, prompts).map { ForwardRequest(cache: $0, tokens: $1, logits: .last) })
        return prompts.indices.map { i in
            let stepper = SequenceStepper(parameters: SamplingParameters(seed: 0), promptLength: prompts[i].count,
                                          maxNewTokens: steps + 1, eosTokenIDs: [])
            return GeneratingSequence(stepper: stepper, tokens: prompts[i], cache: caches[i], logits: out[i].logits)
        }
    }
}
