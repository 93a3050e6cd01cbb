#!/usr/bin/env bash
# Runs the Swift test suite under AddressSanitizer or ThreadSanitizer (README "Fuzzing and sanitizers").
#
# Usage: scripts/sanitize.sh address|thread [swift test arguments...]
#   address  builds in .build-asan, runs every test (ASan costs ~2-3x in time)
#   thread   builds in .build-tsan, runs the suites with threads of their own (engine, compute pool,
#            server, sessions, clients: GPT2DaemonTests, GPT2ClientTests, GPT2CoreTests' ComputePool,
#            CKernelsTests' pool); the single-threaded parsers and kernels gain nothing from TSan at
#            its 5-15x cost.
# The daemon/client integration suites run first with --no-parallel, as in the normal suite under load.
# Extra arguments replace both runs by one `swift test` with them (e.g. --filter EngineTests).
# Exit status: swift test's (a sanitizer report fails the test process).
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-}"
shift || true
case "$kind" in
    address) scratch=.build-asan; scale=4; rest=() ;;
    thread) scratch=.build-tsan; scale=15; rest=(--filter "GPT2DaemonTests|GPT2ClientTests|ComputePoolTests|PoolTests") ;;
    *) echo "usage: scripts/sanitize.sh address|thread [swift test arguments...]" >&2; exit 2 ;;
esac

# Reports go to stderr and end the test process: a finding is a failure, never a warning to miss.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
# The sanitizer's slowdown stretches every bound the tests wait under (TestTimeScale), so a bound
# that only guards against a hang never fails a correct, slower run.
export GPT2D_TEST_TIMEOUT_SCALE="${GPT2D_TEST_TIMEOUT_SCALE:-$scale}"

echo "==> swift build --build-tests --sanitize=$kind ($scratch)"
start=$(date +%s)
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
echo "==> built in $(( $(date +%s) - start )) s"

# The pool-size suites after the rest, at most 8 tests at once, as in scripts/test.sh.
. scripts/swift-test-groups.sh
integration="EndToEndTests|ServerTests|FakeServerTests|EndToEndBinaryTests|GPT2CtlTaskTests|TaskClientTests|KernelBackendTests|GPT2CtlTests|BinaryLifecycleTests"
t0=$(date +%s)
status=0
run() { swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" "$@" || status=$?; }
if [ $# -gt 0 ]; then
    echo "==> swift test --sanitize=$kind $*"
    run "$@"
else
    echo "==> swift test --sanitize=$kind: the integration suites serially, then ${rest[*]:-the rest} in parallel, then the pool-size suites"
    run --no-parallel --filter "$integration"
    if [ "$kind" = thread ]; then
        run --skip "$integration|$pool_size_suites" "${rest[@]}"
        run --filter "PoolTests|ComputePoolTests"
    else
        run --skip "$integration|$pool_size_suites"
        run --filter "$pool_size_suites"
    fi
fi
echo "==> tests under the $kind sanitizer took $(( $(date +%s) - t0 )) s (status $status)"
exit $status
