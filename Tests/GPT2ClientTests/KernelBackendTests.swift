// Both compute back ends of the real binary, on two threads: the project's kernels and compute
// pool (the default where the CPU has AVX-512) and OpenBLAS (GPT2D_MATMUL=blas, what CPUs without
// AVX-512 run). Greedy generation equals transformers' golden with either; scores agree ≤ 1e-4.
import Foundation
import GPT2Client
import GPT2TestSupport
import GPT2Wire
import Testing

@Suite struct KernelBackendTests {
    /// 60+ tokens, so prefill goes through the large-M GEMM and attention's per-head GEMMs.
    static let text = String(repeating: "The quick brown fox jumps over the lazy dog, and 東京 🦊 runs away. ", count: 4)

    func run(_ backend: String?) async throws -> (greedy: [Int], expected: [Int], logprobs: [Double?]) {
        let golden = try readInt64Tensors(Paths.tinyModel + "/golden.safetensors")
        let prompt = try #require(golden["greedy.prompt"])
        let expected = Array(try #require(golden["greedy.output"])[prompt.count...])
        return try await withDaemon(threads: 2, environment: ["GPT2D_MATMUL": backend]) { d in
            let c = d.client()
            let g = try await c.generate(GenerateRequest(model: DaemonProcess.model, input: .tokens(prompt),
                                                         maxNewTokens: expected.count))
            let s = try await c.score(ScoreRequest(model: DaemonProcess.model, input: .text(Self.text)))
            return (g.tokens, expected, s.logprobs)
        }
    }

    @Test func bothBackendsAgreeWithTransformers() async throws {
        let own = try await run(nil)
        let blas = try await run("blas")
        #expect(own.greedy == own.expected)
        #expect(blas.greedy == blas.expected)
        #expect(own.logprobs.count > 60 && own.logprobs.count == blas.logprobs.count)
        let worst = zip(own.logprobs, blas.logprobs).map { abs(($0 ?? 0) - ($1 ?? 0)) }.max() ?? 0
        #expect(worst <= 1e-4, "largest logprob difference \(worst)")
    }
}
