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

# 2. Build everything (fixtures are committed: the Swift tests need no Python).
echo "==> swift build"
swift build --build-tests

# 3. The Python client (standard library only) against the real daemon binary.
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" scripts/test-python-client.sh

# 4. The official openai SDK and curl against the HTTP listener (its own venv under .build/; PyPI).
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" scripts/test-openai-sdk.sh

# 4b. The metrics: promtool check metrics and a real Prometheus server scraping the daemon.
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" scripts/test-metrics.sh

# 5. The fault suite (issue #12): the real daemon under concurrent, killed and signalled clients.
echo "==> fault suite"
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" python3 scripts/fault_suite.py

# 5b. Durable sessions (issue #15): SIGKILL and SIGTERM restarts, a damaged and a full state folder.
echo "==> session durability"
GPT2D_BIN="$(swift build --show-bin-path)/gpt2d" python3 scripts/session_durability.py

# 6. The libFuzzer targets, bounded (issue #12): each on its seeds, its regressions and 2000 fuzzed
# inputs, built in .build-fuzz with -sanitize=fuzzer,address (README "Fuzzing and sanitizers").
echo "==> fuzz targets (bounded)"
scripts/fuzz.sh --runs 2000

# 7. Every Swift test (last, so its summary closes the output).
echo "==> swift test"
swift test --skip-build
