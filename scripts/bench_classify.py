#!/usr/bin/env python3
"""classify throughput: gpt2d over its socket vs Hugging Face transformers' GPT2ForSequenceClassification,
on the same weights and thread count, in one run (BENCHMARKS.md).

Workload: 8 texts of exactly 128 tokens each, classified in one request (gpt2d: one `classify` op
with "texts"; transformers: one batched forward of [8, 128] ids, no padding) — 1024 tokens.
Every figure is the median of --repeats runs after one warm-up.

  python3 scripts/make_task_fixtures.py --bench bench-models/gpt2-seqcls-random
  python3 scripts/bench_classify.py bench-models/gpt2-seqcls-random --threads 2
"""
import argparse
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import Conn, ROOT, report, start_daemon  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--gpt2d", default=os.path.join(ROOT, ".build/release/gpt2d"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    # Texts of exactly 128 tokens: single-token words with a leading space ("Ġword" vocabulary entries).
    vocab = json.load(open(os.path.join(a.model, "vocab.json"), encoding="utf-8"))
    words = sorted(t for t in vocab if t.startswith("\u0120") and t[1:].isascii() and t[1:].isalpha() and len(t) > 3)
    rng = random.Random(3)
    # Fresh texts for every run: repeating one would measure gpt2d's prompt cache, not its compute.
    make_texts = lambda: ["".join(" " + w[1:] for w in rng.sample(words, 128)) for _ in range(8)]

    d, sock = start_daemon(a.gpt2d, f"cls={a.model}", a.threads)
    r = {}
    try:
        c = Conn(sock)
        def classify():
            texts = make_texts()
            ids = []
            for i, t in enumerate(texts):
                c.send({"id": f"t{i}", "op": "tokenize", "model": "cls", "text": t})
                toks = c.read()["tokens"]
                assert len(toks) == 128, len(toks)
                ids.append(toks)
            t0 = time.perf_counter()
            c.send({"id": "c", "op": "classify", "model": "cls", "texts": texts, "top_k": 0})
            msg = c.read()
            assert msg["type"] == "result", msg
            return time.perf_counter() - t0, msg["results"], ids

        classify()
        times = []
        for _ in range(a.repeats):
            dt, ours, ids = classify()
            times.append(dt)
        r["gpt2d_s"] = statistics.median(times)
    finally:
        d.terminate(); d.wait(timeout=30)

    import torch
    from transformers import GPT2ForSequenceClassification
    torch.set_num_threads(a.threads)
    m = GPT2ForSequenceClassification.from_pretrained(a.model, dtype=torch.float32).eval()
    x = torch.tensor(ids)
    with torch.no_grad():
        m(x)
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter(); logits = m(x).logits; times.append(time.perf_counter() - t0)
    r["transformers_s"] = statistics.median(times)
    # Same answer: the top label of every text, and its softmax score.
    probs = torch.softmax(logits, -1)
    for i in range(8):
        best = int(probs[i].argmax())
        label = m.config.id2label[best]
        assert ours[i][0]["label"] == label, (i, ours[i][0], label)
        assert abs(ours[i][0]["score"] - float(probs[i, best])) < 1e-4
    r["gpt2d_tok_s"] = 1024 / r["gpt2d_s"]
    r["transformers_tok_s"] = 1024 / r["transformers_s"]
    r["ratio"] = r["transformers_s"] / r["gpt2d_s"]
    r["threads"] = a.threads
    report(r, a.json)


if __name__ == "__main__":
    sys.exit(main())
