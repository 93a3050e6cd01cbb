#!/usr/bin/env python3
"""How much one client's huge prompt stalls another client's stream (BENCHMARKS.md, issue #10).

Starts the release `gpt2d` on a temporary socket with MODEL_DIR, then, repeated --repeats times:

  1. client A streams greedy generations back to back (16-token prompts, --tokens new tokens each,
     ignore_eos), so its stream outlasts whatever B costs even on a small-context model;
  2. once A has --warmup token lines, client B sends one `generate` whose text prompt is --mib MiB of
     English-like words with max_new_tokens 1. The prompt is far longer than any GPT-2 context, so B
     is answered `context_overflow` — after the daemon has tokenized it: the cost measured here is the
     tokenization, wherever the daemon does it;
  3. the gaps between A's consecutive token lines are recorded, from B's send until B's answer
     arrives plus 10 more of A's tokens (a gap between two of A's requests includes a 16-token
     prefill).

With --b-streams N (issue #10 point 3: text work off the compute thread), B instead sends N streamed
greedy generations at once on one connection (16-token prompts, --b-tokens new tokens each,
ignore_eos), each with 16 stop strings of --stop-bytes bytes that are held back as the text grows
(each is a long run of the text's most frequent piece plus a character the model does not produce,
found by one probe generation first) but never match: every B token costs detokenizing, a stop-string
search over a long held-back suffix and a token line. B's answer is the time until all N results.

Reports (milliseconds; rough — the machine is shared):

  quiet_gap_median_ms     A's median inter-token gap with no B (the same streams, first tokens)
  stall_gap_median_ms     A's median gap while B's prompt is being handled
  stall_gap_max_ms        A's longest gap in that window (the stall: ~ B's tokenization time when it
                          runs on the compute thread, ~ one decode step when it does not)
  b_answer_ms             B's send → B's answer line
  b_code                  B's error code (context_overflow expected)

Usage:
  python3 scripts/bench_stall.py Tests/Fixtures/models/tiny-gpt2 --threads 2 [--gpt2d PATH] [--json]
  python3 scripts/bench_stall.py Tests/Fixtures/models/tiny-gpt2 --threads 2 --b-streams 32 [--gpt2d PATH]

The tiny fixture (n_embd 32) keeps a decode step at a few milliseconds, so a stall of the compute
thread stands out; tokenization costs the same whatever the model.
"""
import argparse
import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import ROOT, Conn, report, start_daemon  # noqa: E402

WORDS = ("the of and to in is was for on that with as by at from his her an were are which this be "
         "model language token stream prompt cache daemon socket engine batch decode thread").split()


def big_text(mib, seed=11):
    """About `mib` MiB of space-separated words (many distinct BPE pieces, like real prose)."""
    rng = random.Random(seed)
    out, size, target = [], 0, int(mib * (1 << 20))
    while size < target:
        w = rng.choice(WORDS) + ("," if rng.random() < 0.1 else "")
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def held_back_stops(sock, tokens, stop_bytes, count=16):
    """`count` stop strings a greedy stream keeps holding back but never matches: the most frequent
    text piece of a probe generation repeated to `stop_bytes`, plus a distinct control character."""
    c = Conn(sock)
    c.send({"id": "probe", "op": "generate", "model": "m", "tokens": [464, 3290], "max_new_tokens": tokens,
            "ignore_eos": True})
    msg = c.read()
    if msg.get("type") != "result":
        raise RuntimeError(f"probe generation failed: {msg}")
    text = msg["text"]
    c.close()
    piece = max(set(text.split(" ")), key=text.split(" ").count) or "the"
    run = (" " + piece) * (stop_bytes // (len(piece) + 1) + 1)
    return [run[:stop_bytes] + chr(1 + i) for i in range(count)]


def streams_b(sock, n, tokens, stops):
    """B's alternative load: `n` streamed generations with `stops` on one connection, all at once."""
    def send_b(b_done):
        rng = random.Random(5)
        b = Conn(sock)
        t0 = time.perf_counter()
        for i in range(n):
            b.send({"id": f"b{i}", "op": "generate", "model": "m", "tokens": [rng.randrange(50000) for _ in range(16)],
                    "max_new_tokens": tokens, "stream": True, "ignore_eos": True, "stop": stops})
        done, codes = 0, set()
        while done < n:
            msg = b.read()
            if msg["type"] == "token":
                continue
            done += 1
            codes.add(msg.get("error", {}).get("code") if msg["type"] == "error" else msg.get("finish_reason"))
        b_done["t0"], b_done["t1"] = t0, time.perf_counter()
        b_done["code"] = ",".join(sorted(codes))
        b.close()
    return send_b


def one_run(sock, text, tokens, warmup, tail=10, b_load=None):
    """A streams generations back to back (one connection, each `tokens` long) until `warmup` token
    lines arrived, then B sends its prompt; A goes on until B is answered and `tail` more lines
    arrived. Returns (quiet gaps, gaps from B's send to the end, B's answer time, B's code)."""
    a = Conn(sock)
    rng = random.Random(3)
    arrivals = []
    b_done = {}

    def send_prompt_b():
        b = Conn(sock)
        t0 = time.perf_counter()
        b.send({"id": "b", "op": "generate", "model": "m", "prompt": text, "max_new_tokens": 1})
        msg = b.read()
        b_done["t0"], b_done["t1"] = t0, time.perf_counter()
        b_done["code"] = msg.get("error", {}).get("code", msg.get("type"))
        b.close()

    send_b = (lambda: b_load(b_done)) if b_load else send_prompt_b
    b_thread = None
    after_b = 0
    n = 0
    while after_b < tail:
        n += 1
        a.send({"id": f"a{n}", "op": "generate", "model": "m", "tokens": [rng.randrange(50000) for _ in range(16)],
                "max_new_tokens": tokens, "stream": True, "ignore_eos": True})
        while True:
            msg = a.read()
            if msg["type"] == "token":
                arrivals.append(time.perf_counter())
                if len(arrivals) == warmup:
                    b_thread = threading.Thread(target=send_b)
                    b_thread.start()
                if "t1" in b_done:
                    after_b += 1
            elif msg["type"] == "result":
                break
            else:
                raise RuntimeError(msg)
    a.close()
    b_thread.join()
    gaps = [(t1, (t1 - t0) * 1000) for t0, t1 in zip(arrivals, arrivals[1:])]
    quiet = [g for _, g in gaps[1:warmup - 1]]
    window = [g for t, g in gaps if t > b_done["t0"]]
    return quiet, window, (b_done["t1"] - b_done["t0"]) * 1000, b_done["code"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mib", type=float, default=1.0)
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--gpt2d", default=os.path.join(ROOT, ".build/release/gpt2d"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--b-streams", type=int, default=0, help="B: this many streams with stop strings instead of one prompt")
    ap.add_argument("--b-tokens", type=int, default=100)
    ap.add_argument("--stop-bytes", type=int, default=4096)
    a = ap.parse_args()

    text = big_text(a.mib)
    daemon, sock = start_daemon(a.gpt2d, f"m={a.model}", a.threads, "--max-line-bytes", str(4 << 20))
    quiet, window, answer, codes = [], [], [], set()
    try:
        b_load = None
        if a.b_streams:
            b_load = streams_b(sock, a.b_streams, a.b_tokens, held_back_stops(sock, a.b_tokens, a.stop_bytes))
        for _ in range(a.repeats):
            q, w, b, code = one_run(sock, text, a.tokens, a.warmup, b_load=b_load)
            quiet += q
            window += w
            answer.append(b)
            codes.add(code)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    report({
        "quiet_gap_median_ms": statistics.median(quiet),
        "stall_gap_median_ms": statistics.median(window),
        "stall_gap_max_ms": max(window),
        "b_answer_ms": statistics.median(answer),
        "b_code": ",".join(sorted(codes)),
        "prompt_mib": 0 if a.b_streams else a.mib,
        "b_streams": a.b_streams,
        "threads": a.threads,
    }, a.json)


if __name__ == "__main__":
    sys.exit(main())
