#!/usr/bin/env bash
# test-metrics.sh — gpt2d's metrics checked by Prometheus' own tools (issue #14 point 3):
#   1. the real gpt2d (tiny fixture) on temporary JSON-lines and HTTP sockets, with metrics_textfile
#      written every second; a few requests on both sockets;
#   2. `promtool check metrics` (exit 0, nothing printed) on GET /metrics (curl --unix-socket), on the
#      JSON-lines `metrics` op's text and on the textfile;
#   3. a real Prometheus server (Debian's `prometheus`) on a temporary config, data folder and loopback
#      port, scraping every second through socat (a loopback TCP port → the daemon's HTTP Unix socket:
#      Prometheus scrapes TCP only); asserted through its HTTP API (/api/v1/query): up{job="gpt2d"} is
#      1 and a gpt2d request counter arrived with a value > 0.
# Every tool must be installed (scripts/test.sh installs them): a missing one fails, nothing is skipped.
# Builds gpt2d (debug) first unless GPT2D_BIN names a binary. Takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in promtool prometheus socat curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test-metrics: $tool not found (Debian: apt-get install prometheus socat curl)" >&2
        exit 1
    fi
done
if [ -z "${GPT2D_BIN:-}" ]; then
    echo "==> swift build --product gpt2d"
    swift build --product gpt2d
    GPT2D_BIN="$(swift build --show-bin-path)/gpt2d"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gpt2d-metrics.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/gpt2d.log" ] && sed 's/^/  gpt2d: /' "$work/gpt2d.log" >&2; exit 1; }
# Two free loopback ports (the kernel picks them; released just before use).
read -r socat_port prom_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

sock=$work/gpt2d.sock http=$work/http.sock textfile=$work/gpt2d.prom
echo "==> gpt2d on $sock and $http, textfile $textfile"
"$GPT2D_BIN" --socket "$sock" --http-socket "$http" --model tiny=Tests/Fixtures/models/tiny-gpt2 --threads 1 \
    --log-level warning --metrics-textfile "$textfile" --metrics-textfile-interval-s 1 >"$work/gpt2d.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
    curl -sf --unix-socket "$http" http://gpt2d/health >/dev/null 2>&1 && break
    kill -0 "${pids[0]}" 2>/dev/null || fail "gpt2d exited"
    sleep 0.05
done
curl -sf --unix-socket "$http" http://gpt2d/health >/dev/null || fail "gpt2d did not come up"

# Requests on both listeners; the `metrics` op's text is kept for promtool.
curl -sf --unix-socket "$http" http://gpt2d/v1/completions -H 'Content-Type: application/json' \
    -d '{"model":"tiny","prompt":"Hello","max_tokens":4,"temperature":0}' >/dev/null || fail "completion"
python3 - "$sock" "$work/op.txt" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for i, line in enumerate([{"op": "generate", "model": "tiny", "prompt": "Hi", "max_new_tokens": 3}, {"op": "metrics"}]):
    f.write((json.dumps(dict(line, id=i)) + "\n").encode()); f.flush()
    answer = json.loads(f.readline())
    assert answer["type"] == "result", answer
with open(sys.argv[2], "w") as out:
    out.write(answer["text"])
EOF

check() {  # promtool check metrics on stdin: exit 0 and no problem printed
    local what=$1 out
    out=$(promtool check metrics 2>&1) || fail "promtool check metrics ($what): $out"
    [ -z "$out" ] || fail "promtool check metrics ($what) found problems: $out"
    echo "ok: promtool check metrics ($what)"
}
curl -sf --unix-socket "$http" http://gpt2d/metrics >"$work/http.txt" || fail "GET /metrics"
check "GET /metrics" <"$work/http.txt"
check "metrics op" <"$work/op.txt"
for _ in $(seq 1 60); do [ -s "$textfile" ] && break; sleep 0.05; done
check "metrics_textfile" <"$textfile"

echo "==> prometheus on 127.0.0.1:$prom_port scraping 127.0.0.1:$socat_port (socat → $http)"
socat "TCP-LISTEN:$socat_port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$http" &
pids+=($!)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: gpt2d
    static_configs:
      - targets: ["127.0.0.1:$socat_port"]
EOF
promtool check config "$work/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)

query() {  # the first sample's value of an instant query, or nothing
    curl -sf "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
up="" requests=""
for _ in $(seq 1 150); do
    up=$(query 'up{job="gpt2d"}')
    requests=$(query 'sum(gpt2d_requests_total{job="gpt2d"})')
    [ "$up" = "1" ] && [ -n "$requests" ] && break
    sleep 0.1
done
[ "$up" = "1" ] || { sed 's/^/  prometheus: /' "$work/prometheus.log" >&2; fail "up{job=\"gpt2d\"} is '$up', not 1"; }
python3 -c "import sys; sys.exit(0 if float('$requests') > 0 else 1)" || fail "gpt2d_requests_total is '$requests'"
completion=$(query 'gpt2d_completion_tokens_total{job="gpt2d",model="tiny"}')
python3 -c "import sys; sys.exit(0 if float('${completion:-0}') > 0 else 1)" || fail "gpt2d_completion_tokens_total is '$completion'"
echo "ok: Prometheus scraped gpt2d: up=1, requests=$requests, completion tokens=$completion"

# A graceful stop writes the textfile once more.
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "gpt2d exited with status $?"
check "metrics_textfile after shutdown" <"$textfile"
grep -q '^gpt2d_requests_total{listener="http",op="/metrics",outcome="200"} [1-9]' "$textfile" || fail "final textfile lacks the scrapes"
echo "ok: metrics"
