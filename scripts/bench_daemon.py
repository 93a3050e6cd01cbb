#!/usr/bin/env python3
"""The daemon half of the project's benchmark (BENCHMARKS.md).

Starts the release `gpt2d` on a temporary socket with MODEL_DIR and measures, over the socket,
with one client process (standard library only):

  socket_decode_b1_tok_s     one streaming session: 32-token prompt, tokens/s over the next 64
                             tokens (time between token lines, greedy, ignore_eos)
  inproc_decode_b1_tok_s     the same engine in-process: `gpt2-bench --json` decode batch 1
  socket_vs_inproc           socket_decode_b1 / inproc_decode_b1 (1.0 = no overhead)
  concurrent8_tok_s          8 concurrent streaming sessions on 8 connections: all tokens / wall time
  concurrent8_vs_single      concurrent8_tok_s / socket_decode_b1_tok_s
  ttft_cold_ms, ttft_warm_ms time to the first token line for a 512-token prompt, then for a second
                             request sharing that 512-token prefix (+ 8 new tokens): prompt caching
  ttft_speedup               ttft_cold_ms / ttft_warm_ms

Every figure is the median of --repeats runs. Usage:
  python3 scripts/bench_daemon.py bench-models/gpt2-random --threads 2 [--json]
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Conn:
    """A blocking JSON-lines connection."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def send(self, obj):
        self.sock.sendall((json.dumps(obj) + "\n").encode())

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("daemon closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, obj):
        """Sends one request and returns its final line (result or error), skipping token lines."""
        self.send(obj)
        while True:
            m = self.read()
            if m["type"] in ("result", "error"):
                return m

    def close(self):
        self.sock.close()


def stream_times(path, tokens, max_new, rid="g", barrier=None):
    """Sends one streaming generate (after `barrier`, when given, once connected); returns (send time,
    [arrival time of each token line])."""
    c = Conn(path)
    if barrier is not None:
        barrier.wait()
    t0 = time.perf_counter()
    c.send({"id": rid, "op": "generate", "model": "m", "tokens": tokens, "max_new_tokens": max_new,
            "stream": True, "ignore_eos": True})
    arrivals = []
    while True:
        msg = c.read()
        if msg["type"] == "token":
            arrivals.append(time.perf_counter())
        elif msg["type"] == "result":
            break
        else:
            raise RuntimeError(msg)
    c.close()
    return t0, arrivals


def start_daemon(gpt2d, model_arg, threads, *extra):
    """Starts gpt2d (defaults only: an empty config file, so no system config leaks into the figures)
    on a temporary socket serving `model_arg` (NAME=DIR); returns (process, socket path) once it
    answers `health`."""
    tmp = tempfile.mkdtemp(prefix="gpt2d-bench-")
    sock = os.path.join(tmp, "gpt2d.sock")
    conf = os.path.join(tmp, "gpt2d.conf")
    open(conf, "w").close()
    daemon = subprocess.Popen([gpt2d, "--socket", sock, "--model", model_arg, "--threads", str(threads),
                               "--config", conf, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if os.path.exists(sock):
            try:
                c = Conn(sock); c.send({"id": 1, "op": "health"}); c.read(); c.close()
                return daemon, sock
            except OSError:
                pass
        time.sleep(0.05)
    daemon.terminate()
    raise RuntimeError("gpt2d did not start")


def report(r, json_only):
    """Prints the figures (a table unless json_only), then one JSON line."""
    if not json_only:
        for k, v in r.items():
            print(f"{k:26s} {v:10.3f}" if isinstance(v, float) else f"{k:26s} {v}")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--gpt2d", default=os.path.join(ROOT, ".build/release/gpt2d"))
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build/release/gpt2-bench"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    rng = random.Random(7)
    ids = lambda n: [rng.randrange(50000) for _ in range(n)]
    med = statistics.median
    r = {}

    def inproc_decode():
        """The engine in-process (gpt2-bench), while the daemon idles."""
        out = subprocess.run([a.bench, "--model", a.model, "--threads", str(a.threads), "--repeats", "3",
                              "--decode-only", "--json"], check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])["gpt2d"]["decode_b1_tok_s"]

    daemon, sock = start_daemon(a.gpt2d, f"m={a.model}", a.threads, "--max-sessions", "64")
    try:
        # 1. One session: tokens/s between token lines 1..64 (the first line includes the prompt),
        #    interleaved with in-process runs so both see the same machine.
        stream_times(sock, ids(32), 8)  # warm-up
        rates, inproc = [], []
        for _ in range(a.repeats):
            inproc.append(inproc_decode())
            _, t = stream_times(sock, ids(32), 65)
            rates.append(64 / (t[-1] - t[0]))
        r["inproc_decode_b1_tok_s"] = med(inproc)
        r["socket_decode_b1_tok_s"] = med(rates)
        r["socket_vs_inproc"] = r["socket_decode_b1_tok_s"] / r["inproc_decode_b1_tok_s"]

        # 2. Eight concurrent streaming sessions: aggregate tokens/s once all are decoding.
        agg = []
        for _ in range(a.repeats):
            results = [None] * 8
            def run(i):
                results[i] = stream_times(sock, ids(32), 65, rid=f"c{i}")
            threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
            for th in threads: th.start()
            for th in threads: th.join()
            start = max(t[1][0] for t in results)   # every stream has its first token
            end = max(t[1][-1] for t in results)
            n = sum(sum(1 for x in t[1] if x > start) for t in results)
            agg.append(n / (end - start))
        r["concurrent8_tok_s"] = med(agg)
        r["concurrent8_vs_single"] = r["concurrent8_tok_s"] / r["socket_decode_b1_tok_s"]

        # 3. Prompt caching: first token of a 512-token prompt, then of one sharing that prefix.
        cold, warm = [], []
        for _ in range(a.repeats):
            prefix = ids(512)
            t0, t = stream_times(sock, prefix, 1)
            cold.append((t[0] - t0) * 1000)
            t0, t = stream_times(sock, prefix + ids(8), 1)
            warm.append((t[0] - t0) * 1000)
        r["ttft_cold_ms"] = med(cold)
        r["ttft_warm_ms"] = med(warm)
        r["ttft_speedup"] = r["ttft_cold_ms"] / r["ttft_warm_ms"]
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)

    r["threads"] = a.threads
    report(r, a.json)


if __name__ == "__main__":
    sys.exit(main())
