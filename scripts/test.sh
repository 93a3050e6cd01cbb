#!/usr/bin/env bash
# The project's test command (README.md): installs what the tests need, builds, runs every test.
# Usage: scripts/test.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. System libraries (Debian packages) — installed only when missing.
need=()
# systemd provides systemd-analyze and systemd-socket-activate for the unit and activation tests;
# curl (--unix-socket) is for the HTTP listener's client tests; prometheus (promtool and the server)
# and socat for the metrics' checks (scripts/test-metrics.sh); libsqlite3-dev is SQLite for GRDB (the
# session database, state_dir); libhdf5-dev and libmsgpack-dev read tf_model.h5 and flax_model.msgpack.
for pkg in libopenblas-dev libsystemd-dev libjson-c-dev libxxhash-dev libsqlite3-dev libhdf5-dev libmsgpack-dev pkg-config systemd python3 curl prometheus socat; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# python3 may come from elsewhere (pyenv): only install Debian's when none is on PATH.
if command -v python3 >/dev/null 2>&1; then need=("${need[@]/python3}"); fi
# Debian's python3 makes venvs only with python3-venv (ensurepip); pyenv's has it built in.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then need+=(python3-venv); fi
need=($(printf '%s\n' "${need[@]}" | grep -v '^$' || true))
if [ ${#need[@]} -gt 0 ]; then
    echo "==> installing ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

# Seconds each step took, printed at the end (the CI budget is 15 minutes for the whole command).
t_start=$(date +%s); t_last=$t_start; timings=()
took() { local now; now=$(date +%s); timings+=("$(printf '%5d s  %s' $((now - t_last)) "$1")"); t_last=$now; }

# 2. Build everything (fixtures are committed: the Swift tests need no Python).
# Without debug information: a fifth less compile time (GRDB alone: 100 → 82 CPU seconds) and a smaller
# test binary to link; test failures still name their file and line (swift-testing records them).
echo "==> swift build"
swift build --build-tests -debug-info-format none
took "swift build --build-tests"

# The fuzz targets build (.build-fuzz, step 6) in the background while the Python suites below run:
# those wait on sockets and restarts much of the time, and the build fills the idle core.
fuzz_log=.build/fuzz-build.log
nice -n 5 scripts/fuzz.sh --build-only > "$fuzz_log" 2>&1 &
fuzz_build=$!
# A failing step below ends the script: stop the build with it (fuzz.sh and its swift build). Every
# command in the trap must succeed: under `set -e` a failing one (pkill finding no process once the
# build is done) would replace the script's exit status with its own.
stop_fuzz_build() { pkill -TERM -P "$fuzz_build" 2>/dev/null || true; kill "$fuzz_build" 2>/dev/null || true; }
trap stop_fuzz_build EXIT

# 3. The Python client (standard library only) against the real daemon binary.
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" scripts/test-python-client.sh
took "Python client"

# 4. The official openai SDK and curl against the HTTP listener (its own venv under .build/; PyPI).
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" scripts/test-openai-sdk.sh
took "openai SDK + curl"

# 4b. The metrics: promtool check metrics and a real Prometheus server scraping the daemon.
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" scripts/test-metrics.sh
took "metrics (promtool, Prometheus)"

# 5. The fault suite (issue #12): the real daemon under concurrent, killed and signalled clients.
echo "==> fault suite"
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" python3 scripts/fault_suite.py
took "fault suite"

# 5b. Durable sessions (issue #15): SIGKILL and SIGTERM restarts, a damaged and a full state folder.
echo "==> session durability"
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" python3 scripts/session_durability.py
took "session durability"

# 6. The libFuzzer targets, bounded (issue #12): each on its seeds, its regressions and 2000 fuzzed
# inputs, built in .build-fuzz with -sanitize=fuzzer,address (README "Fuzzing and sanitizers").
echo "==> fuzz targets (bounded)"
if ! wait "$fuzz_build"; then cat "$fuzz_log"; echo "fuzz: building the targets failed"; exit 1; fi
grep -v "^\[" "$fuzz_log" | grep -v "^Building for\|^Build of product\|Compiling\|Write " || true
took "fuzz targets built (waited for the background build)"
scripts/fuzz.sh --no-build --runs 2000
took "fuzz targets run"

# 7. Every Swift test (last, so its summary closes the output).
echo "==> swift test"
# Its output is kept (.build/swift-test.log) so that a failure's lines can be repeated at the very end,
# where a CI log's tail shows them.
# The suites that resize the compute pool run after the rest, in their own swift test; at most 8
# tests at once (scripts/swift-test-groups.sh says why).
. scripts/swift-test-groups.sh
set +e
swift test --skip-build --skip "$pool_size_suites" 2>&1 | tee .build/swift-test.log
status=${PIPESTATUS[0]}
swift test --skip-build --filter "$pool_size_suites" 2>&1 | tee -a .build/swift-test.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e
took "swift test"
echo "==> timings"
printf '%s\n' "${timings[@]}"
printf '%5d s  total\n' $(( $(date +%s) - t_start ))
if [ "$status" -ne 0 ]; then
    echo "==> swift test exited with status $status; its failure lines (all in .build/swift-test.log):"
    grep -aE "✘|error:|Fatal error|fatal error|signal|Exited|crash|Executed .* tests" .build/swift-test.log | tail -60 || true
fi
exit $status
