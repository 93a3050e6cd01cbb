#!/usr/bin/env bash
# Runs Clients/openai/test_openai_sdk.py — the official `openai` Python SDK (and curl --unix-socket)
# against the real gpt2d's HTTP listener, compared with the JSON-lines protocol — in a venv of its own
# (.build/openai-venv, made here with `pip install openai==$OPENAI_VERSION`; reused while the version
# matches). Builds gpt2d (debug) first unless GPT2D_BIN names a binary.
#
# Usage: scripts/test-openai-sdk.sh [unittest arguments, e.g. -k stream]
set -euo pipefail
cd "$(dirname "$0")/.."

OPENAI_VERSION=3.57.0
PYTHON="${PYTHON:-python3}"
venv=.build/openai-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import openai, sys; sys.exit(openai.__version__ != '$OPENAI_VERSION')" 2>/dev/null; then
    echo "==> venv $venv with openai==$OPENAI_VERSION"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "openai==$OPENAI_VERSION"
fi

if [ -z "${GPT2D_BIN:-}" ]; then
    echo "==> swift build --product gpt2d"
    swift build --product gpt2d
    GPT2D_BIN="$(swift build --show-bin-path)/gpt2d"
fi
export GPT2D_BIN
echo "==> openai SDK tests against $GPT2D_BIN"
exec "$venv/bin/python" -m unittest -v Clients/openai/test_openai_sdk.py "$@"
