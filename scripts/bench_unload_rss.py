#!/usr/bin/env python3
"""RSS after models.unload (issue #15 point 6), against the real gpt2d binary.

gpt2d starts serving the tiny fixture (the baseline); then, `--cycles` times: a second model (the gpt2
shape, --model DIR, in each --weight-type) is loaded with models.load, generates --tokens greedy tokens
(so its weights and KV blocks are touched), and is unloaded with models.unload. The daemon's VmRSS
(/proc/PID/status) is printed at each stage: at the unload's answer and again --settle seconds later. Rough figures on a shared machine; the point is whether
the RSS after an unload comes back near the baseline and stays there cycle after cycle.

Usage: GPT2D_BIN=.build/debug/gpt2d python3 scripts/bench_unload_rss.py [--model DIR] [--weight-type float32,int8]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Clients", "python"))
from gpt2d_client import Client  # noqa: E402


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/work/bench-models/gpt2-random")
    ap.add_argument("--weight-type", default="float32")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--settle", type=float, default=3.0, help="seconds to wait after the unload before the last RSS")
    args = ap.parse_args()
    binary = os.environ.get("GPT2D_BIN") or os.path.join(ROOT, ".build", "release", "gpt2d")
    tiny = os.path.join(ROOT, "Tests", "Fixtures", "models", "tiny-gpt2")
    tmp = tempfile.mkdtemp(prefix="gpt2d-rss-")
    sock = os.path.join(tmp, "gpt2d.sock")
    log = open(os.path.join(tmp, "gpt2d.log"), "w")
    d = subprocess.Popen([binary, "--socket", sock, "--model", "tiny=" + tiny, "--threads", "2", "--log-level", "warning"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with Client(sock, timeout=5) as c:
                    c.health()
                break
            except OSError:
                if time.time() > deadline or d.poll() is not None:
                    raise RuntimeError("gpt2d did not come up")
                time.sleep(0.05)
        with Client(sock, timeout=600) as c:
            c.generate("tiny", "Hello", max_new_tokens=4)
            base = rss_mib(d.pid)
            print("baseline (tiny served): %.0f MiB" % base)
            print("| weight type | cycle | loaded (MiB) | after generate (MiB) | at the unload's answer (MiB) | %g s later (MiB) | later − baseline (MiB) | load (s) |" % args.settle)
            print("|---|---|---|---|---|---|---|---|")
            for wt in args.weight_type.split(","):
                for i in range(1, args.cycles + 1):
                    r = c.models_load("big", args.model, weight_type=wt)
                    loaded = rss_mib(d.pid)
                    c.generate("big", "Hello, I'm a language model", max_new_tokens=args.tokens)
                    used = rss_mib(d.pid)
                    c.models_unload("big", drain_timeout_s=10)
                    after = rss_mib(d.pid)
                    time.sleep(args.settle)
                    settled = rss_mib(d.pid)
                    print("| %s | %d | %.0f | %.0f | %.0f | %.0f | %+.0f | %.1f |"
                          % (wt, i, loaded, used, after, settled, settled - base, r["load_seconds"]))
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=20)
        except subprocess.TimeoutExpired:
            d.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
