// TestThreads — the compute pool's one thread count for every suite of the main test run.
//
// The pool is process-wide (CKernels' pool.c) and its size decides how a product is split — the K
// split of the small-M kernels, the column strips of OpenBLAS on AVX2 — and so the rounding of its
// results (a daemon promises the same bits for the same configuration, not across thread counts).
// Suites run side by side in one process and several compare logits bit for bit; if one of them
// (or an in-process daemon's Engine, which configures the pool from its `threads` option) changed the
// size meanwhile, such a comparison would mix splits. So every suite of the main run asks for this
// count; the suites about the pool's size itself (PoolTests, ComputePoolTests,
// SmallBatchInvarianceTests) run in their own `swift test` afterwards (scripts/test.sh).
import GPT2Core

public enum TestThreads {
    /// Two: more than one, so the threaded paths run, and this machine's core count.
    public static let count = 2

    /// Sets the pool to `count` (a no-op when it already is: no products are disturbed).
    public static func configure() { ComputeThreads.configure(count) }
}
