# How `swift test` is run, shared by scripts/test.sh and scripts/sanitize.sh (sourced, not run).
#
# pool_size_suites: the suites that change the compute pool's size themselves (PoolTests,
# ComputePoolTests, SmallBatchInvarianceTests). Every other suite computes with one pool size
# (Tests/GPT2TestSupport/TestThreads.swift): the pool is process-wide and its size decides how
# products split, so their rounding; a suite running beside these would compute under another size
# (its bit-exact logit comparisons and the KV snapshots' fingerprint, which includes the thread
# count). So they run on their own, after the rest (`--skip` then `--filter` this pattern).
# (The quantized kernels' portable bodies are chosen per calling thread, so QuantizedFormatTests,
# which switches them, runs with the rest.)
pool_size_suites="PoolTests|ComputePoolTests|SmallBatchInvarianceTests"

# At most 8 tests at once (Swift Testing's SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH). Its
# default here started every test together: with ~750 tests on 2 cores each in-process daemon got
# so small a share that EndToEndTests' reads timed out (20 s) or met EOF mid-drain (CI and two
# clean-clone runs failed so); with 8 the main run is also faster (261 s against 319 s, back to back
# on this machine).
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-8}"
