#!/usr/bin/env bash
# Runs the Python client's tests (Clients/python/test_gpt2d_client.py, stdlib unittest) against the
# real gpt2d serving the tiny-gpt2 fixture. Builds gpt2d (debug) first unless GPT2D_BIN names a binary.
# Exit status: unittest's (non-zero when a test fails).
#
# Usage: scripts/test-python-client.sh [unittest arguments, e.g. -k session]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' || {
    echo "error: Python 3.9 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
}

if [ -z "${GPT2D_BIN:-}" ]; then
    echo "==> swift build --product gpt2d"
    swift build --product gpt2d
    GPT2D_BIN="$(swift build --show-bin-path)/gpt2d"
fi
export GPT2D_BIN
echo "==> python client tests against $GPT2D_BIN"
cd Clients/python
exec "$PYTHON" -m unittest -v test_gpt2d_client "$@"
