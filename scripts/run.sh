#!/usr/bin/env bash
# The README's main job, in one command: install what is missing, build gpt2d and gpt2ctl (release),
# start gpt2d on a model in the background, generate a continuation of a prompt with gpt2ctl, stop.
#
# Usage: scripts/run.sh [MODEL_DIR] [PROMPT]
#   MODEL_DIR  a GPT-2 checkpoint directory (config.json, model.safetensors or sharded + index,
#              vocab.json + merges.txt or tokenizer.json), e.g. a download of openai-community/gpt2.
#              Default: $GPT2_MODEL_DIR, else the committed small trained model Tests/Fixtures/models/quality-gpt2
#              (4 layers x 128, real GPT-2 vocabulary, trained on the King James Bible by
#              scripts/train_quality_model.py: it writes readable, Bible-like English).
#   PROMPT     default: $GPT2_PROMPT, else "Hello, I'm a language model" for a MODEL_DIR and
#              "And it came to pass" for the default model (generated with repetition penalty 1.3 and
#              no repeated 3-grams, greedy).
# Environment: GPT2_MAX_NEW_TOKENS (default 40); GPT2D_BIN / GPT2CTL_BIN use prebuilt binaries (no build).
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL_DIR="${1:-${GPT2_MODEL_DIR:-}}"
DEFAULT_PROMPT="Hello, I'm a language model"
# Extra generation options: the small default model loops greedily ("and the LORD, and the LORD"),
# so it gets transformers-style repetition_penalty 1.3 and no_repeat_ngram_size 3 (still greedy).
GEN_OPTS=()
if [ -z "$MODEL_DIR" ]; then
    DEFAULT_PROMPT="And it came to pass"
    GEN_OPTS=(--repetition-penalty 1.3 --no-repeat-ngram-size 3)
fi
PROMPT="${2:-${GPT2_PROMPT:-$DEFAULT_PROMPT}}"
MAX_NEW_TOKENS="${GPT2_MAX_NEW_TOKENS:-40}"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# 1. Debian packages the build links against — installed only when missing.
if command -v dpkg-query >/dev/null 2>&1; then
    need=()
    for pkg in libopenblas-dev libsystemd-dev libjson-c-dev libxxhash-dev libsqlite3-dev libhdf5-dev libmsgpack-dev pkg-config; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
        say "installing ${need[*]}"
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
    fi
fi

# 2. Build (release).
if [ -n "${GPT2D_BIN:-}" ] && [ -n "${GPT2CTL_BIN:-}" ]; then
    GPT2D="$GPT2D_BIN"; GPT2CTL="$GPT2CTL_BIN"
else
    command -v swift >/dev/null 2>&1 || die "swift is not installed (Swift 6 toolchain: https://www.swift.org/install/linux/)"
    say "building gpt2d and gpt2ctl (release; the first build takes a few minutes)"
    swift build -c release --product gpt2d
    swift build -c release --product gpt2ctl
    BIN="$(swift build -c release --show-bin-path)"
    GPT2D="$BIN/gpt2d"; GPT2CTL="$BIN/gpt2ctl"
fi

# 3. The model.
if [ -n "$MODEL_DIR" ]; then
    [ -d "$MODEL_DIR" ] || die "model directory not found: $MODEL_DIR"
    [ -f "$MODEL_DIR/config.json" ] || die "$MODEL_DIR has no config.json (not a Hugging Face checkpoint directory)"
    say "model: $MODEL_DIR"
else
    MODEL_DIR="Tests/Fixtures/models/quality-gpt2"
    cat <<'NOTE'
==> model: Tests/Fixtures/models/quality-gpt2 (no MODEL_DIR given)
    NOTE: a small GPT-2 (4 layers x 128 channels, 7 M parameters, real GPT-2 vocabulary) trained
    in this repository on the King James Bible (scripts/train_quality_model.py): it writes
    Bible-like English, not what OpenAI's GPT-2 writes. For real GPT-2 text download a checkpoint, e.g.
      huggingface-cli download openai-community/gpt2 config.json model.safetensors vocab.json merges.txt --local-dir ~/models/gpt2
    and run: scripts/run.sh ~/models/gpt2
NOTE
fi
MODEL_DIR="$(cd "$MODEL_DIR" && pwd)"

# 4. Start gpt2d on a private socket; stop it on any exit.
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/gpt2d-run.XXXXXX")"
SOCKET="$RUN_DIR/gpt2d.sock"
LOG="$RUN_DIR/gpt2d.log"
DAEMON_PID=""
stop_daemon() {
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    DAEMON_PID=""
}
cleanup() { stop_daemon; rm -rf "$RUN_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting gpt2d (socket $SOCKET)"
"$GPT2D" --socket "$SOCKET" --model "gpt2=$MODEL_DIR" --log-level warning >"$LOG" 2>&1 &
DAEMON_PID=$!

for _ in $(seq 1 600); do   # up to 120 s: loading a large checkpoint takes a while
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        wait "$DAEMON_PID" 2>/dev/null && status=0 || status=$?
        DAEMON_PID=""
        cat "$LOG" >&2
        die "gpt2d exited with status $status before it was ready (log above)"
    fi
    "$GPT2CTL" health --socket "$SOCKET" >/dev/null 2>&1 && break
    sleep 0.2
done
"$GPT2CTL" health --socket "$SOCKET" >/dev/null 2>&1 || { cat "$LOG" >&2; die "gpt2d did not become ready"; }
"$GPT2CTL" models --socket "$SOCKET"

# 5. Generate.
say "prompt: $PROMPT"
say "generated ($MAX_NEW_TOKENS new tokens, greedy${GEN_OPTS[*]:+, ${GEN_OPTS[*]}}):"
echo "$PROMPT" | "$GPT2CTL" generate --socket "$SOCKET" --model gpt2 --max-new-tokens "$MAX_NEW_TOKENS" ${GEN_OPTS[@]+"${GEN_OPTS[@]}"}

# 6. Stop.
say "stopping gpt2d"
stop_daemon
say "done"
