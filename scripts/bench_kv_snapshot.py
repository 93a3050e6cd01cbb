#!/usr/bin/env python3
"""The first request on a long session after a restart, with and without its saved KV cache
(issue #15 point 1), against the real gpt2d binary.

Per round and per mode (kv_snapshot_mib = 1024 "on", 0 "off"; state_dir and cache_dir are fresh
folders each round): start, open a session, generate on it with a PROMPT-token prompt and 1 new
token, stop with SIGTERM (the "KV snapshots saved" log line gives the write cost), start again (the
"KV snapshots restored" line gives the read cost) and time the next generate on the session (1 new
prompt token, 1 new token: time to first token = time to the result) and its usage.cached_tokens.
The modes alternate within each round (A/B, then B/A), so machine noise hits both alike.

Rough figures on a shared machine: compare the two columns of one run, not runs with each other.
Usage: GPT2D_BIN=.build/release/gpt2d python3 scripts/bench_kv_snapshot.py [--model DIR] [--rounds N]
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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import Conn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(binary, model, state, cache, mib, threads):
    run = tempfile.mkdtemp(prefix="gpt2d-kvb-")
    sock, log = os.path.join(run, "s.sock"), os.path.join(run, "log")
    open(os.path.join(run, "c.conf"), "w").close()
    args = [binary, "--socket", sock, "--config", os.path.join(run, "c.conf"), "--threads", str(threads),
            "--log-level", "info", "--session-idle-timeout-s", "86400", "--model", f"lm={model}",
            "--state-dir", state, "--cache-dir", cache, "--kv-snapshot-mib", str(mib), "--kv-cache-mib", "2048"]
    proc = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(open(log).read())
        try:
            c = Conn(sock)
            c.call({"id": 0, "op": "health"})
            return proc, sock, log, run, c
        except OSError:
            time.sleep(0.02)


def stop(proc, log, run):
    t = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    stop_s = time.perf_counter() - t
    text = open(log).read()
    shutil.rmtree(run, ignore_errors=True)
    return text, stop_s


def field_ms(log, message):
    m = re.search(message + r".*?ms=(\d+)", log)
    return int(m.group(1)) if m else None


def one(binary, model, mib, prompt, threads):
    state, cache = tempfile.mkdtemp(prefix="gpt2d-kvb-state-"), tempfile.mkdtemp(prefix="gpt2d-kvb-cache-")
    try:
        proc, sock, log, run, c = start(binary, model, state, cache, mib, threads)
        s = c.call({"id": 1, "op": "session.open", "model": "lm"})["session"]
        r = c.call({"id": 2, "op": "generate", "model": "lm", "session": s,
                     "tokens": [(k * 7919 + 13) % 50000 for k in range(prompt)], "max_new_tokens": 1})
        assert r["type"] == "result", r
        c.close()
        first_log, stop_s = stop(proc, log, run)
        files = os.path.join(cache, "kv-snapshots")
        snap_bytes = sum(os.path.getsize(os.path.join(files, f)) for f in os.listdir(files)) if os.path.isdir(files) else 0
        proc, sock, log, run, c = start(binary, model, state, cache, mib, threads)
        t = time.perf_counter()
        r = c.call({"id": 3, "op": "generate", "model": "lm", "session": s, "tokens": [11], "max_new_tokens": 1})
        ttft_ms = (time.perf_counter() - t) * 1000
        assert r["type"] == "result", r
        c.close()
        second_log, _ = stop(proc, log, run)
        return {"ttft_ms": ttft_ms, "cached_tokens": r["usage"]["cached_tokens"], "stop_s": stop_s,
                "save_ms": field_ms(first_log, "KV snapshots saved"), "restore_ms": field_ms(second_log, "KV snapshots restored"),
                "snapshot_bytes": snap_bytes, "tokens": r["tokens"]}
    finally:
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/work/bench-models/gpt2-random")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--prompt", type=int, default=900)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    binary = os.environ.get("GPT2D_BIN", os.path.join(ROOT, ".build/release/gpt2d"))
    runs = {"on": [], "off": []}
    for r in range(a.rounds):
        for mode in ("on", "off") if r % 2 == 0 else ("off", "on"):
            runs[mode].append(one(binary, a.model, 1024 if mode == "on" else 0, a.prompt, a.threads))
            print(f"round {r} {mode}: {json.dumps({k: v for k, v in runs[mode][-1].items() if k != 'tokens'})}", file=sys.stderr, flush=True)
    result = {"model": a.model, "prompt_tokens": a.prompt, "rounds": a.rounds}
    for mode, rs in runs.items():
        med = lambda k: statistics.median(x[k] for x in rs if x[k] is not None) if any(x[k] is not None for x in rs) else None
        result[mode] = {"ttft_ms_median": round(med("ttft_ms"), 1), "ttft_ms_all": [round(x["ttft_ms"], 1) for x in rs],
                        "cached_tokens": [x["cached_tokens"] for x in rs], "stop_s_median": round(med("stop_s"), 3),
                        "save_ms_median": med("save_ms"), "restore_ms_median": med("restore_ms"),
                        "snapshot_bytes": rs[0]["snapshot_bytes"]}
    result["same_tokens"] = all(x["tokens"] == runs["on"][0]["tokens"] for x in runs["on"] + runs["off"])
    result["ttft_ratio_on_off"] = round(result["on"]["ttft_ms_median"] / result["off"]["ttft_ms_median"], 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
