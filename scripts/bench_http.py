#!/usr/bin/env python3
"""Issue #14 point 6: the same concurrent streaming sessions over the HTTP listener (OpenAI
completions, server-sent events) as over JSON lines, against one gpt2d, runs alternating.

For each transport and repetition, N clients (default 16) each open their own connection at once and
stream one greedy generation (a 32-token prompt of random ids, --tokens new tokens, ignore_eos):

  aggregate_tok_s   tokens that arrived after the last client's first token ÷ the time from then to the
                    last token (every client streaming at once: the steady state)
  ttft_ms           median over the clients of send → first token
  http_vs_jsonl     HTTP aggregate ÷ JSON-lines aggregate (the issue asks ≥ 0.95)
  ttft_delta_ms     HTTP median TTFT − JSON-lines median TTFT (the issue asks within 1 ms)

Medians over --repeats. The HTTP client is raw HTTP/1.1 over the Unix socket (no SDK: the SDK's own
parsing would be measured too); each SSE `data:` event is one token but the last (finish_reason only)
and `[DONE]`.

Usage:
  python3 scripts/bench_http.py MODEL_DIR --gpt2d .build/release/gpt2d [--sessions 16] [--tokens 128]
      [--threads 2] [--repeats 3] [--json]
"""
import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import Conn, stream_times  # noqa: E402


def start(gpt2d, model_dir, threads):
    tmp = tempfile.mkdtemp(prefix="gpt2d-bench-http-")
    sock, http = os.path.join(tmp, "gpt2d.sock"), os.path.join(tmp, "http.sock")
    conf = os.path.join(tmp, "gpt2d.conf")
    open(conf, "w").close()
    daemon = subprocess.Popen([gpt2d, "--socket", sock, "--http-socket", http, "--model", "m=" + model_dir,
                               "--threads", str(threads), "--config", conf, "--max-sessions-per-user", "64"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):
        if os.path.exists(sock) and os.path.exists(http):
            try:
                c = Conn(sock); c.send({"id": 1, "op": "health"}); c.read(); c.close()
                return daemon, sock, http
            except OSError:
                pass
        time.sleep(0.05)
    daemon.terminate()
    raise RuntimeError("gpt2d did not start")


def jsonl_stream(path, prompt, n, out, i, barrier):
    out[i] = stream_times(path, prompt, n, rid=i, barrier=barrier)


def http_stream(path, prompt, n, out, i, barrier):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    body = json.dumps({"model": "m", "prompt": [prompt], "max_tokens": n, "temperature": 0, "stream": True,
                       "ignore_eos": True}).encode()
    request = (b"POST /v1/completions HTTP/1.1\r\nHost: gpt2d\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    barrier.wait()
    t0 = time.perf_counter()
    s.sendall(request)
    buf, arrivals, done = b"", [], False
    while not done:
        chunk = s.recv(65536)
        if not chunk:
            break
        now = time.perf_counter()
        buf += chunk
        # Chunked transfer framing wraps the events; the events themselves are `data: …\n\n`.
        while b"data: " in buf:
            start = buf.index(b"data: ")
            end = buf.find(b"\n\n", start)
            if end < 0:
                break
            payload = buf[start + 6:end]
            buf = buf[end + 2:]
            if payload == b"[DONE]":
                done = True
                break
            event = json.loads(payload)
            # One event per token; the last carries only the finish reason (no token).
            if event.get("choices") and event["choices"][0].get("finish_reason") is None:
                arrivals.append(now)
    s.close()
    out[i] = (t0, arrivals)


def run(kind, path, sessions, n, vocab):
    rng = random.Random(1234)
    prompts = [[rng.randrange(vocab) for _ in range(32)] for _ in range(sessions)]
    out = [None] * sessions
    barrier = threading.Barrier(sessions)
    fn = jsonl_stream if kind == "jsonl" else http_stream
    threads = [threading.Thread(target=fn, args=(path, prompts[i], n, out, i, barrier)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    for t0, arr in out:
        if len(arr) != n:
            raise RuntimeError("%s: a client got %d of %d tokens" % (kind, len(arr), n))
    last_first = max(arr[0] for _, arr in out)
    last = max(arr[-1] for _, arr in out)
    after = sum(sum(1 for a in arr if a > last_first) for _, arr in out)
    ttft = statistics.median((arr[0] - t0) * 1e3 for t0, arr in out)
    return after / (last - last_first), ttft


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir")
    p.add_argument("--gpt2d", required=True)
    p.add_argument("--sessions", type=int, default=16)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    with open(os.path.join(a.model_dir, "config.json")) as f:
        vocab = json.load(f)["vocab_size"]
    daemon, sock, http = start(a.gpt2d, a.model_dir, a.threads)
    try:
        run("jsonl", sock, a.sessions, 8, vocab)  # warm-up (kernels, pools, page cache)
        figures = {"jsonl": [], "http": []}
        for _ in range(a.repeats):
            for kind, path in (("jsonl", sock), ("http", http)):
                figures[kind].append(run(kind, path, a.sessions, a.tokens, vocab))
    finally:
        daemon.terminate()
        daemon.wait(30)
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in figures.items()}
    r = {"sessions": a.sessions, "tokens": a.tokens, "repeats": a.repeats,
         "jsonl_aggregate_tok_s": med["jsonl"][0], "http_aggregate_tok_s": med["http"][0],
         "jsonl_ttft_ms": med["jsonl"][1], "http_ttft_ms": med["http"][1],
         "http_vs_jsonl": med["http"][0] / med["jsonl"][0], "ttft_delta_ms": med["http"][1] - med["jsonl"][1],
         "runs": figures}
    if a.json:
        print(json.dumps(r))
        return
    print("%d concurrent streaming sessions, %d tokens each, medians of %d alternating runs" % (a.sessions, a.tokens, a.repeats))
    print("| transport | aggregate (tok/s) | time to first token, median (ms) |")
    print("|---|---:|---:|")
    print("| JSON lines | %.1f | %.1f |" % med["jsonl"])
    print("| HTTP + SSE | %.1f | %.1f |" % med["http"])
    print("HTTP ÷ JSON lines: %.3f (≥ 0.95 asked); TTFT difference %.2f ms (within 1 ms asked)" % (r["http_vs_jsonl"], r["ttft_delta_ms"]))


if __name__ == "__main__":
    main()
