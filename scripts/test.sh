#!/usr/bin/env bash
# The project's test command (README.md): installs what the tests need, builds, runs every test.
# Usage: scripts/test.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. System libraries (Debian packages) — installed only when missing.
need=()
for pkg in libopenblas-dev libsystemd-dev libjson-c-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "==> installing ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

# 2. Build and run every Swift test (fixtures are committed: no Python needed here).
echo "==> swift build"
swift build --build-tests
echo "==> swift test"
swift test --skip-build
