#!/usr/bin/env python3
"""Issue #11's per-weight-type benchmark (BENCHMARKS.md, "Weight types over the socket").

For each weight type, starts the release `gpt2d` serving MODEL_DIR in that type (quantized or converted
at load; with --cache-dir the quantized weights come from the on-disk cache on the second start) and
measures, in one run, medians of --repeats:

  ready_first_s / ready_cached_s   spawn → first `health` answer, first start and a second start
  decode_b1_tok_s                  one streaming session over the socket (32-token prompt, 64 tokens)
  inproc_decode_b1_tok_s           the engine in-process (`gpt2-bench --decode-only`), same type
  weight_mib                       the weight bytes the engine holds (gpt2-bench), read once per token
  gb_s, of_bandwidth               inproc decode × weight bytes, and that ÷ the read bandwidth measured
                                   by scripts/membw.c in this run (before and after the types and around
                                   each type's in-process decode: the lowest figure is the ceiling used)
  bw_around_gb_s, of_bandwidth_around   the lower of the two bandwidths measured right before and after
                                   this type's in-process decode, and gb_s ÷ it
  sessions8_tok_s / sessions16_tok_s   8 / 16 concurrent streaming sessions on their own connections
                                   (32-token prompts, 128 new tokens): tokens after the last first token
                                   ÷ the time from then to the last token
  s16_vs_s8                        the ratio the issue asks to be ≥ 1.5
  prefill512_tok_s                 512 ÷ time to the first token of a fresh 512-token prompt
  rss_mib / peak_rss_mib           the daemon's VmRSS after the measurements and its VmHWM

A type may name a matmul precision after a colon (bfloat16:medium: activations rounded to bfloat16,
`matmul_precision`); without one it is measured at the default, highest.

Usage:
  python3 scripts/bench_types.py bench-models/gpt2-random [--types float32,int8,bfloat16:medium]
      [--threads 2] [--repeats 3] [--cache-dir DIR] [--json]
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import Conn, ROOT, stream_times  # noqa: E402

TYPES = ["float32", "bfloat16", "float16", "int8", "nf4", "q4"]


def build_membw(folder):
    """scripts/membw.c compiled into `folder`; returns the executable."""
    exe = os.path.join(folder, "membw")
    subprocess.run(["cc", "-O3", "-march=native", "-pthread", os.path.join(ROOT, "scripts/membw.c"), "-o", exe],
                   check=True)
    return exe


def membw(exe, threads):
    """Read bandwidth in GB/s (the compiled scripts/membw.c, 1 GiB, median of 7)."""
    out = subprocess.run([exe, str(threads), "1024", "7"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["read_gb_s"]   # the median over the passes


def proc_status(pid, key):
    """A /proc/PID/status figure in MiB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start(gpt2d, model_arg, threads, extra):
    """Starts gpt2d with an empty config file on a temporary socket; returns (process, socket, seconds
    from spawn to the first `health` answer)."""
    tmp = tempfile.mkdtemp(prefix="gpt2d-types-")
    sock, conf = os.path.join(tmp, "gpt2d.sock"), os.path.join(tmp, "gpt2d.conf")
    open(conf, "w").close()
    t0 = time.perf_counter()
    p = subprocess.Popen([gpt2d, "--socket", sock, "--model", model_arg, "--threads", str(threads), "--config", conf,
                          "--max-sessions", "64", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while time.perf_counter() - t0 < 300:
        if p.poll() is not None:
            raise RuntimeError(f"gpt2d exited with {p.returncode} serving {model_arg}")
        if os.path.exists(sock):
            try:
                c = Conn(sock); c.send({"id": 1, "op": "health"}); c.read(); c.close()
                return p, sock, time.perf_counter() - t0
            except OSError:
                pass
        time.sleep(0.01)
    p.kill()
    raise RuntimeError("gpt2d did not start")


def stop(p):
    p.terminate()
    p.wait(timeout=60)


def concurrent(sock, n, ids, new_tokens):
    """n streaming sessions at once: aggregate tokens/s once every stream has its first token."""
    results = [None] * n

    def run(i):
        results[i] = stream_times(sock, ids(32), new_tokens, rid=f"c{i}")
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads: th.start()
    for th in threads: th.join()
    begin = max(t[1][0] for t in results)
    end = max(t[1][-1] for t in results)
    tokens = sum(sum(1 for x in t[1] if x > begin) for t in results)
    return tokens / (end - begin)


def inproc(bench, model, threads, wtype, precision):
    out = subprocess.run([bench, "--model", model, "--threads", str(threads), "--repeats", "3", "--decode-only",
                          "--weight-type", wtype, "--matmul-precision", precision, "--json"],
                         check=True, capture_output=True, text=True).stdout
    g = json.loads(out.strip().splitlines()[-1])["gpt2d"]
    return g["decode_b1_tok_s"], g["weight_mib"]


def measure(a, spec, membw_exe):
    rng = random.Random(11)
    ids = lambda n: [rng.randrange(50000) for _ in range(n)]
    med = statistics.median
    wtype, _, precision = spec.partition(":")
    precision = precision or "highest"
    extra = (["--cache-dir", a.cache_dir] if a.cache_dir else []) + ["--matmul-precision", precision]
    r = {"type": spec}
    model_arg = f"m:{wtype}={a.model}"
    p, _, first = start(a.gpt2d, model_arg, a.threads, extra)
    stop(p)
    p, sock, cached = start(a.gpt2d, model_arg, a.threads, extra)
    r["ready_first_s"], r["ready_cached_s"] = first, cached
    try:
        stream_times(sock, ids(32), 8)  # warm-up
        b1 = []
        for _ in range(a.repeats):
            _, t = stream_times(sock, ids(32), 65)
            b1.append(64 / (t[-1] - t[0]))
        r["decode_b1_tok_s"] = med(b1)
        r["sessions8_tok_s"] = med([concurrent(sock, 8, ids, 128) for _ in range(a.repeats)])
        r["sessions16_tok_s"] = med([concurrent(sock, 16, ids, 128) for _ in range(a.repeats)])
        r["s16_vs_s8"] = r["sessions16_tok_s"] / r["sessions8_tok_s"]
        pf = []
        with open(os.path.join(a.model, "config.json")) as f:   # 512, or less for a small test model
            n = min(512, json.load(f)["n_positions"] - 1)
        for _ in range(a.repeats):
            t0, t = stream_times(sock, ids(n), 1)
            pf.append(n / (t[0] - t0))
        r["prefill512_tok_s"] = med(pf)
        r["rss_mib"], r["peak_rss_mib"] = proc_status(p.pid, "VmRSS"), proc_status(p.pid, "VmHWM")
    finally:
        stop(p)
    bw_before = membw(membw_exe, a.threads)
    r["inproc_decode_b1_tok_s"], r["weight_mib"] = inproc(a.bench, a.model, a.threads, wtype, precision)
    bw_after = membw(membw_exe, a.threads)
    r["gb_s"] = r["inproc_decode_b1_tok_s"] * r["weight_mib"] * 1048576 / 1e9
    r["of_bandwidth"] = None   # ÷ the run's lowest bandwidth, known once every type ran (main)
    # The same decode against the bandwidth measured right around it (the lower of the two): this
    # host's bandwidth drifts by tens of percent over a run, and the run-wide ceiling is its minimum.
    r["bw_around_gb_s"] = min(bw_before, bw_after)
    r["of_bandwidth_around"] = r["gb_s"] / r["bw_around_gb_s"]
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache-dir", help="gpt2d's quantized-weight cache folder (a second start then maps it)")
    ap.add_argument("--gpt2d", default=os.path.join(ROOT, ".build/release/gpt2d"))
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build/release/gpt2-bench"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gpt2d-membw-") as tmp:
        exe = build_membw(tmp)
        before = membw(exe, a.threads)
        rows = [measure(a, t, exe) for t in a.types.split(",")]
        after = membw(exe, a.threads)
    ceiling = min([before, after] + [r["bw_around_gb_s"] for r in rows])
    for r in rows:
        r["of_bandwidth"] = r["gb_s"] / ceiling
    if not a.json:
        print(f"read bandwidth (membw, {a.threads} threads): {before:.1f} GB/s before, {after:.1f} after; "
              f"ceiling {ceiling:.1f}")
        keys = [k for k in rows[0] if k != "type"]
        print("| type | " + " | ".join(keys) + " |")
        print("|---|" + "---:|" * len(keys))
        for r in rows:
            print(f"| {r['type']} | " + " | ".join(f"{r[k]:.3g}" if r[k] < 100 else f"{r[k]:.0f}" for k in keys) + " |")
    print(json.dumps({"membw_gb_s": [before, after], "threads": a.threads, "rows": rows}))


if __name__ == "__main__":
    sys.exit(main())
