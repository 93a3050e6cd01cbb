#!/usr/bin/env python3
"""The cost of durable sessions (issue #15 point 6), against the real gpt2d binary.

  latency   8 clients, each in its own session, send greedy generates (4 new prompt tokens, 8 new
            tokens) at the same time; per-request latency with state_dir = none vs a folder,
            alternating the two daemons round by round so machine noise hits both alike
  restore   1,000 sessions of ~60 tokens are created, the daemon is stopped; the next start's
            "sessions restored" log line gives the restore time, and the time to a health answer

Rough figures on a shared machine: compare the two columns of one run, not runs with each other.
Usage: GPT2D_BIN=.build/release/gpt2d python3 scripts/bench_sessions.py [--model DIR] [--rounds N]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import Conn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Daemon:
    def __init__(self, binary, model, state, threads):
        self.dir = tempfile.mkdtemp(prefix="gpt2d-bs-")
        self.socket = os.path.join(self.dir, "s.sock")
        open(os.path.join(self.dir, "c.conf"), "w").close()
        self.log_path = os.path.join(self.dir, "log")
        args = [binary, "--socket", self.socket, "--config", os.path.join(self.dir, "c.conf"), "--threads", str(threads),
                "--log-level", "info", "--max-sessions", "4096", "--max-sessions-per-user", "4096",
                "--session-idle-timeout-s", "86400", "--model", f"lm={model}", "--state-dir", state]
        self.started = time.time()
        self.proc = subprocess.Popen(args, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(open(self.log_path).read())
            try:
                c = Conn(self.socket)
                c.call({"id": 0, "op": "health"})
                c.close()
                break
            except OSError:
                time.sleep(0.01)
        self.ready_s = time.time() - self.started

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        log = open(self.log_path).read()
        shutil.rmtree(self.dir, ignore_errors=True)
        return log


def round_latencies(d, sessions, prompt_seed):
    """One request per client, all at once; returns each one's latency in ms."""
    out = [0.0] * len(sessions)
    barrier = threading.Barrier(len(sessions))

    def run(i):
        c = Conn(d.socket)
        barrier.wait()
        t = time.perf_counter()
        r = c.call({"id": i, "op": "generate", "model": "lm", "session": sessions[i],
                     "tokens": [(prompt_seed * 31 + i * 7 + k) % 50000 for k in range(4)], "max_new_tokens": 8})
        out[i] = (time.perf_counter() - t) * 1000
        assert r["type"] == "result", r
        c.close()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(sessions))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def open_sessions(d, n):
    c = Conn(d.socket)
    ids = [c.call({"id": i, "op": "session.open", "model": "lm"})["session"] for i in range(n)]
    c.close()
    return ids


def close_all(d, ids):
    c = Conn(d.socket)
    for s in ids:
        c.call({"id": "x", "op": "session.close", "session": s})
    c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "Tests/Fixtures/models/tiny-gpt2"))
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--restore-sessions", type=int, default=1000)
    a = ap.parse_args()
    binary = os.environ.get("GPT2D_BIN", os.path.join(ROOT, ".build/release/gpt2d"))
    state = tempfile.mkdtemp(prefix="gpt2d-bs-state-")
    result = {"model": a.model}
    try:
        off, on = Daemon(binary, a.model, "none", a.threads), Daemon(binary, a.model, state, a.threads)
        lat = {"off": [], "on": []}
        ids = {"off": open_sessions(off, 8), "on": open_sessions(on, 8)}
        for r in range(a.rounds):
            if r % 8 == 0 and r:   # keep the histories short: new sessions every 8 rounds
                for k, d in (("off", off), ("on", on)):
                    close_all(d, ids[k])
                    ids[k] = open_sessions(d, 8)
            for k, d in (("off", off), ("on", on)) if r % 2 == 0 else (("on", on), ("off", off)):
                lat[k] += round_latencies(d, ids[k], r)
        off.stop()
        on_log = on.stop()
        for k in lat:
            result[f"latency_ms_{k}"] = {"median": round(statistics.median(lat[k]), 2), "mean": round(statistics.mean(lat[k]), 2)}
        result["latency_ratio_on_off_median"] = round(statistics.median(lat["on"]) / statistics.median(lat["off"]), 3)
        result["latency_ratio_on_off_mean"] = round(statistics.mean(lat["on"]) / statistics.mean(lat["off"]), 3)
        del on_log

        shutil.rmtree(state, ignore_errors=True)
        d = Daemon(binary, a.model, state, a.threads)
        result["ready_s_empty_state"] = round(d.ready_s, 3)
        c = Conn(d.socket)
        t = time.perf_counter()
        for i in range(a.restore_sessions):
            s = c.call({"id": i, "op": "session.open", "model": "lm"})["session"]
            r = c.call({"id": i, "op": "generate", "model": "lm", "session": s, "tokens": [(i * 13 + k) % 50000 for k in range(56)],
                         "max_new_tokens": 4})
            assert r["type"] == "result", r
        result["create_1000_s"] = round(time.perf_counter() - t, 2)
        c.close()
        d.stop()
        d = Daemon(binary, a.model, state, a.threads)
        log = d.stop()
        m = re.search(r"sessions restored.*", log)
        result["restore_log"] = m.group(0)[:300] if m else log[-500:]
        result["ready_s_with_sessions"] = round(d.ready_s, 3)
        result["db_bytes"] = sum(os.path.getsize(os.path.join(state, f)) for f in os.listdir(state))
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
