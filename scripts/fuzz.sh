#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (Fuzz/, README "Fuzzing and sanitizers").
#
# Usage: scripts/fuzz.sh [--build-only | --no-build] [--runs N | SECONDS] [TARGET...]
#                                                          (from anywhere; default: --runs 2000, all)
#   --runs N      each target runs its seed corpus, then N fuzzed inputs (the CI mode, bounded in work;
#                 a fixed -seed, so a run is repeatable and CI never fails on a draw of luck: new inputs
#                 come from the long mode, and what it finds goes to the regressions)
#   SECONDS       each target fuzzes for that long (the long mode: e.g. 14400 for four hours a target)
#   --build-only  build the targets and stop; --no-build: run what an earlier --build-only built
#                 (scripts/test.sh builds while the Python suites run, then fuzzes)
#   TARGET     FuzzJSON FuzzWire FuzzTokenizer FuzzSafeTensors FuzzConfig FuzzPickle FuzzShardIndex FuzzFlax
#              FuzzQuantCache FuzzGGUF FuzzQuantState (default: all of them)
#
# Builds in .build-fuzz (debug, -sanitize=fuzzer,address; GPT2D_FUZZ=1 adds the targets to the
# manifest), so the normal .build is untouched. Seeds: Tests/Fixtures/fuzz/<TARGET> and the inputs of
# crashes found before, Tests/Fixtures/fuzz/regressions/<TARGET> (both read only), with the tokens of
# Tests/Fixtures/fuzz/<TARGET>.dict (written by scripts/make_fuzz_corpus.py and, for FuzzPickle,
# scripts/make_pickle_fuzz_seeds.py; the regressions are kept by hand);
# inputs the fuzzer finds go to .build-fuzz/corpus/<TARGET>, crashes to .build-fuzz/crashes/<TARGET>/.
# Exit status: 0 when every target ran clean, 1 when any found a crash (its input is printed).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=2000
seconds=""
mode=all
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --build-only) mode=build; shift ;;
        --no-build) mode=run; shift ;;
        --runs=*) runs="${1#--runs=}"; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        [0-9]*) seconds="$1"; shift ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(FuzzJSON FuzzWire FuzzTokenizer FuzzSafeTensors FuzzConfig FuzzPickle FuzzShardIndex FuzzFlax FuzzQuantCache FuzzGGUF FuzzQuantState)

scratch=.build-fuzz
build() {
    GPT2D_FUZZ=1 swift build -c debug --scratch-path "$scratch" "$@" -Xswiftc -sanitize=fuzzer,address
}

start=$(date +%s)
for t in "${targets[@]}"; do
    [ "$mode" = run ] && break
    echo "==> building $t"
    # ld.gold warns once per ASan helper symbol ("Cannot export local symbol"): noise, not a problem.
    if ! build --product "$t" 2>&1 | { grep -v "Cannot export local symbol" || true; }; then
        echo "fuzz: building $t failed"
        exit 1
    fi
done
bin="$(build --show-bin-path)"
built=$(date +%s)
if [ "$mode" != run ]; then echo "==> built ${#targets[@]} targets in $((built - start)) s"; fi
[ "$mode" = build ] && exit 0
for t in "${targets[@]}"; do
    [ -x "$bin/$t" ] || { echo "fuzz: $bin/$t is not built (run with --build-only first)"; exit 1; }
done

# Reports of leaks at exit are off: the tokenizer and Swift's runtime keep process-lifetime caches.
# Symbolizing a crash in these debug binaries takes minutes on a loaded machine: the stack is printed
# unsymbolized (the invariant's message names the check); rerun the input by hand to symbolize.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:symbolize=0}"
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
passed=0
failed=0
for t in "${targets[@]}"; do
    corpus="$scratch/corpus/$t"
    crashes="$scratch/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    dict=()
    [ -f "Tests/Fixtures/fuzz/$t.dict" ] && dict=(-dict="Tests/Fixtures/fuzz/$t.dict")
    regressions=()
    [ -d "Tests/Fixtures/fuzz/regressions/$t" ] && regressions=("Tests/Fixtures/fuzz/regressions/$t")
    if [ -n "$seconds" ]; then limit=(-max_total_time="$seconds"); else limit=(-runs="$runs" -seed=1); fi
    echo "==> $t (${limit[*]})"
    t0=$(date +%s)
    # -timeout: one input taking 10 s is a bug (unbounded work); -rss_limit_mb: so is 2 GB of memory.
    # Inputs up to 4 KiB, but FuzzGGUF's: a GGUF of whole 32-value quant blocks is ~7 KiB at least.
    maxlen=4096
    [ "$t" = FuzzGGUF ] && maxlen=16384
    if "$bin/$t" "${limit[@]}" "${dict[@]}" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "Tests/Fixtures/fuzz/$t" "${regressions[@]}" > "$scratch/$t.log" 2>&1; then
        passed=$((passed + 1))
        echo "    ok in $(( $(date +%s) - t0 )) s: $(grep -E '^stat::number_of_executed_units' "$scratch/$t.log" | awk '{print $2}') inputs"
    else
        failed=$((failed + 1))
        echo "    FAILED in $(( $(date +%s) - t0 )) s; the end of $scratch/$t.log:"
        tail -n 40 "$scratch/$t.log" | sed 's/^/    /'
        echo "    crashing inputs: $(ls "$crashes" | sed "s|^|$crashes/|" | tr '\n' ' ')"
    fi
done
echo "==> fuzzing took $(( $(date +%s) - built )) s after the build"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
