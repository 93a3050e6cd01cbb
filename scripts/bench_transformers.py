#!/usr/bin/env python3
"""Hugging Face side of the gpt2d benchmark: measure transformers' GPT2LMHeadModel on one checkpoint.

Usage (from the repository root):
    python3 scripts/make_fixtures.py --bench bench-models/gpt2-random     # once: random gpt2-124M
    python3 scripts/bench_transformers.py bench-models/gpt2-random --threads 2 --json

Everything runs with torch.set_num_threads(N), float32, eval mode, torch.no_grad(). Every measurement is
taken REPEATS times after WARMUP untimed runs; the MEDIAN is reported. Inputs are random ids (fixed seed).

    load_s                 GPT2LMHeadModel.from_pretrained(MODEL_DIR, dtype=float32), wall seconds
                           (transformers 5 maps the file lazily: pages are read on first use, so
                           this is close to mmap + header parse + module construction)
    prefill128_tok_s       one forward of a 128-token prompt (batch 1, use_cache=True, full logits)
    prefill512_tok_s       same, 512 tokens, full logits [512, V]
    prefill512_last_tok_s  same, 512 tokens, logits of the last position only (logits_to_keep=1)
    decode_b1_tok_s        greedy loop with past_key_values: 32-token prompt (prefill not timed), then
                           DECODE_STEPS single-token steps; tokens/s = batch * steps / time of the steps
    decode_b8_tok_s        same with batch 8 (8 different random prompts)
    peak_rss_mib           resource.getrusage(RUSAGE_SELF).ru_maxrss at the end, MiB
    threads, torch_version, transformers_version

Without --json a human-readable table is printed as well (the JSON object is always the last line).
"""
import argparse
import gc
import inspect
import json
import resource
import statistics
import sys
import time

import torch
import transformers
from transformers import GPT2LMHeadModel

REPEATS = 5
WARMUP = 1
DECODE_PROMPT = 32
DECODE_STEPS = 32


def median_time(fn, repeats=REPEATS, warmup=WARMUP):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = fn()
        times.append(t)
    return statistics.median(times)


def timed(fn):
    def run():
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print only the JSON object")
    ap.add_argument("--repeats", type=int, default=REPEATS)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    repeats = args.repeats

    def load():
        return GPT2LMHeadModel.from_pretrained(args.model_dir, dtype=torch.float32).eval()

    # load_s: the model of the previous round is released first, so peak RSS is one model's worth
    model = None
    load_times = []
    for i in range(WARMUP + repeats):
        model = None
        gc.collect()
        t0 = time.perf_counter()
        model = load()
        dt = time.perf_counter() - t0
        if i >= WARMUP:
            load_times.append(dt)
    load_s = statistics.median(load_times)

    V = model.config.vocab_size
    g = torch.Generator().manual_seed(0)

    def rand_ids(batch, n):
        return torch.randint(0, V, (batch, n), generator=g, dtype=torch.int64)

    supports_keep = "logits_to_keep" in inspect.signature(model.forward).parameters

    results = {}
    with torch.no_grad():
        # from_pretrained maps the safetensors file lazily: touch every weight once before timing
        model(rand_ids(1, 8), use_cache=True)
        for n in (128, 512):
            ids = rand_ids(1, n)
            t = median_time(timed(lambda: model(ids, use_cache=True)), repeats)
            results[f"prefill{n}_tok_s"] = n / t
        ids = rand_ids(1, 512)
        if supports_keep:
            t = median_time(timed(lambda: model(ids, use_cache=True, logits_to_keep=1)), repeats)
        else:  # older transformers: full logits (then the number equals prefill512_tok_s)
            t = median_time(timed(lambda: model(ids, use_cache=True)), repeats)
        results["prefill512_last_tok_s"] = 512 / t

        for batch in (1, 8):
            prompt = rand_ids(batch, DECODE_PROMPT)

            def decode():
                out = model(prompt, use_cache=True, logits_to_keep=1) if supports_keep else \
                    model(prompt, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
                t0 = time.perf_counter()
                for _ in range(DECODE_STEPS):
                    out = model(nxt, past_key_values=past, use_cache=True)
                    past = out.past_key_values
                    nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
                return time.perf_counter() - t0

            t = median_time(decode, repeats)
            results[f"decode_b{batch}_tok_s"] = batch * DECODE_STEPS / t

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB

    report = {
        "load_s": round(load_s, 4),
        "prefill128_tok_s": round(results["prefill128_tok_s"], 2),
        "prefill512_tok_s": round(results["prefill512_tok_s"], 2),
        "prefill512_last_tok_s": round(results["prefill512_last_tok_s"], 2),
        "decode_b1_tok_s": round(results["decode_b1_tok_s"], 2),
        "decode_b8_tok_s": round(results["decode_b8_tok_s"], 2),
        "peak_rss_mib": round(peak_rss_mib, 1),
        "threads": args.threads,
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
    }
    if not args.json:
        for k, v in report.items():
            print(f"{k:24s} {v}")
        if not supports_keep:
            print("note: logits_to_keep unsupported; prefill512_last_tok_s used full logits", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
