#!/usr/bin/env python3
"""Make the GGUF fixtures of gpt2d: Tests/Fixtures/gguf/ (and the FuzzGGUF seeds).

Runs in its own virtual environment, which it creates when missing ($GPT2D_GGUF_VENV, default
.build/gguf-venv): `python3 -m venv --system-site-packages` (torch, transformers and safetensors come
from the global site-packages) plus the PyPI `gguf` package (llama.cpp's gguf-py, pinned) for the
writer, its quantizers and its dequantizer.

Files (llama.cpp's GPT-2 layout, as convert_hf_to_gguf.py's GPT2Model writes it: general.architecture
gpt2, the gpt2.* hyper-parameters, token_embd / position_embd / blk.N.{attn_norm, attn_qkv,
attn_output, ffn_norm, ffn_up, ffn_down} / output_norm / output (untied only), the four block
matrices transposed to [out, in]; the tokenizer as tokenizer.ggml.model "gpt2", tokens, token_type,
merges, bos/eos ids):

    tiny-f32.gguf    models/tiny-hub's weights, every tensor F32
    tiny-f16.gguf    the same, 2-D tensors F16 (llama.cpp's F16 conversion), vectors F32
    tiny-q8_0.gguf   the same body, matrices and position_embd Q8_0, plus an untied output.weight
                     (seeded random, Q8_0): tie_word_embeddings false
    tiny-q4_0.gguf   the same, every weight matrix Q4_0 (position_embd F16): served as q4 by default
    tiny-q4_0-mixed.gguf  the block matrices Q4_0, token_embd Q8_0 — how llama-quantize's Q4_0 files
                     mix types (their token_embd is Q6_K, which needs n_embd a multiple of 256)
    wide-q6_k.gguf   a model of widths Q6_K's 256-value super-blocks fit (n_embd 256, n_inner 256,
                     1 layer, seeded random weights; no safetensors twin: 2 MB in F32), matrices Q6_K

Q8_0 and Q4_0 are quantized by gguf-py (`gguf.quants.quantize`); gguf-py cannot quantize Q6_K (it
only dequantizes it), so this script has a small numpy Q6_K quantizer that writes ggml's block
layout (ql[128], qh[64], int8 scales[16], binary16 d) with plain absmax scales (not ggml's
make_qx_quants search: the values differ, the layout is the same) and checks it against gguf-py's
dequantizer. The tokenizer is GPT-2's own restricted to ids < 1000 (tiny-hub's vocabulary): the
first 1000 tokens of vocab.json and the merges whose two parts and result are among them; the same
lists are written as vocab-1000/vocab.json + merges.txt, the twin the tokenizer test compares with.

For each file, <name>.expected.safetensors holds what llama.cpp's dequantization computes, so the
Swift tests compare gpt2d with it and not with gpt2d itself: `input_ids` (I64) and `logits` (F32,
every position) of transformers' GPT2LMHeadModel (torch, fp32 eager) loaded with the file read back
through gguf-py's GGUFReader and `gguf.quants.dequantize`; `rows.<tensor>` (F32) the dequantized rows
`row_ids.<tensor>` (I64) of every quantized tensor (first four and last). The F32 file's logits are
also checked here against models/tiny-hub's transformers golden (1e-4).

Usage (from the repository root):  python3 scripts/make_gguf_fixtures.py
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_venv import reexec_in_venv  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIX = os.path.join(ROOT, "Tests", "Fixtures")
OUT = os.path.join(FIX, "gguf")
FUZZ = os.path.join(FIX, "fuzz", "FuzzGGUF")
VENV = os.environ.get("GPT2D_GGUF_VENV", os.path.join(ROOT, ".build", "gguf-venv"))
PINS = ["gguf==0.19.0"]
VOCAB = 1000
PROMPT = 8
TOL = 1e-4



reexec_in_venv(VENV, PINS, system_site_packages=True,
               probe="import gguf, importlib.metadata as m; assert m.version('gguf') == '0.19.0'; import torch, transformers")

import importlib.metadata  # noqa: E402

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import safetensors.numpy  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from gguf import GGMLQuantizationType as T  # noqa: E402

QK_K = 256


# ---- tokenizer ------------------------------------------------------------------------------------

def gpt2_tokenizer_lists():
    """GPT-2's tokens with ids < VOCAB (by id) and the merges among them (by rank)."""
    vocab = json.load(open(os.path.join(FIX, "vocab", "gpt2", "vocab.json"), encoding="utf-8"))
    by_id = {i: t for t, i in vocab.items() if i < VOCAB}
    tokens = [by_id[i] for i in range(VOCAB)]
    keep = set(tokens)
    merges = []
    for line in open(os.path.join(FIX, "vocab", "gpt2", "merges.txt"), encoding="utf-8").read().split("\n")[1:]:
        if not line:
            continue
        a, b = line.split(" ")
        if a in keep and b in keep and a + b in keep:
            merges.append(line)
    return tokens, merges


def write_vocab_twin(tokens, merges):
    d = os.path.join(OUT, "vocab-1000")
    os.makedirs(d)
    with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
    with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")


# ---- weights --------------------------------------------------------------------------------------

def read_safetensors(path):
    return safetensors.numpy.load_file(path)


def tiny_hub():
    """models/tiny-hub: (config dict, PyTorch state dict as float32 numpy, no mask buffers)."""
    d = os.path.join(FIX, "models", "tiny-hub")
    config = json.load(open(os.path.join(d, "config.json")))
    sd = {}
    for k, v in read_safetensors(os.path.join(d, "model.safetensors")).items():
        k = k[len("transformer."):] if k.startswith("transformer.") else k
        if k.endswith((".attn.bias", ".attn.masked_bias")):
            continue
        sd[k] = v.astype(np.float32)
    return config, sd


def random_model(rng, n_embd, n_inner, n_layer, n_positions, vocab, untied=False):
    """A seeded random GPT-2 state dict (numpy float32) of the given widths."""
    C, F = n_embd, n_inner
    sd = {"wte.weight": rng.standard_normal((vocab, C)) * 0.2, "wpe.weight": rng.standard_normal((n_positions, C)) * 0.1,
          "ln_f.weight": 1 + rng.standard_normal(C) * 0.1, "ln_f.bias": rng.standard_normal(C) * 0.1}
    for l in range(n_layer):
        p = "h.%d." % l
        for name, shape in (("ln_1.weight", (C,)), ("ln_1.bias", (C,)), ("attn.c_attn.weight", (C, 3 * C)),
                            ("attn.c_attn.bias", (3 * C,)), ("attn.c_proj.weight", (C, C)), ("attn.c_proj.bias", (C,)),
                            ("ln_2.weight", (C,)), ("ln_2.bias", (C,)), ("mlp.c_fc.weight", (C, F)),
                            ("mlp.c_fc.bias", (F,)), ("mlp.c_proj.weight", (F, C)), ("mlp.c_proj.bias", (C,))):
            scale = 0.1 if len(shape) == 1 else 1 / np.sqrt(shape[0])
            sd[p + name] = rng.standard_normal(shape) * scale + (1 if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") else 0)
    if untied:
        sd["lm_head.weight"] = rng.standard_normal((vocab, C)) * 0.2
    return {k: v.astype(np.float32) for k, v in sd.items()}


TOP = {"wte.weight": "token_embd.weight", "wpe.weight": "position_embd.weight", "ln_f.weight": "output_norm.weight",
       "ln_f.bias": "output_norm.bias", "lm_head.weight": "output.weight"}
BLOCK = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
         "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def gguf_name(key):
    if key in TOP:
        return TOP[key]
    _, n, rest = key.split(".", 2)
    part, suffix = rest.rsplit(".", 1)
    return "blk.%s.%s.%s" % (n, BLOCK[part], suffix)


def gguf_tensors(sd):
    """(GGUF name, numpy array in GGUF's numpy layout): Conv1D weights transposed to [out, in]."""
    out = []
    for key, v in sd.items():
        out.append((gguf_name(key), np.ascontiguousarray(v.T if key.endswith(CONV1D) else v)))
    return out


# ---- Q6_K -----------------------------------------------------------------------------------------

def quantize_q6_k(x, intended=None):
    """Rows of float32 (ne0 a multiple of 256) → ggml's block_q6_K bytes, 210 per 256 values
    (`intended`, a list, receives the values the bytes stand for: (d·scale)·(q − 32) in float32).
    Per 16-value sub-block an absmax scale f = max|x| / 31; the super-block's binary16 d = max f / 127
    and int8 scales round(f / d); q = clip(round(x / (d·scale)), -32, 31) + 32, split into ql (low 4
    bits) and qh (high 2 bits) in ggml's order."""
    rows, k = x.shape
    blocks = x.reshape(-1, QK_K).astype(np.float32)
    n = blocks.shape[0]
    sub = blocks.reshape(n, 16, 16)
    f = np.abs(sub).max(axis=-1) / 31                                  # (n, 16)
    d = (f.max(axis=-1) / 127).astype(np.float16)                      # (n,)
    d32 = d.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(d32[:, None] > 0, np.round(f / d32[:, None]), 0).clip(-128, 127).astype(np.int8)
        e = (d32[:, None] * sc.astype(np.float32))[:, :, None]        # (n, 16, 1)
        q = np.where(e > 0, np.round(sub / e), 0).clip(-32, 31).astype(np.int16) + 32
    if intended is not None:
        intended.append((e * (q - 32).astype(np.float32)).reshape(x.shape))
    q = q.reshape(n, QK_K).astype(np.uint8)
    ql = np.zeros((n, 128), np.uint8)
    qh = np.zeros((n, 64), np.uint8)
    for v in range(QK_K):
        h, w = divmod(v, 128)
        i, l = divmod(w, 32)
        ql[:, h * 64 + l + 32 * (i & 1)] |= (q[:, v] & 0xF) << (4 * (i >> 1))
        qh[:, h * 32 + l] |= (q[:, v] >> 4) << (2 * i)
    out = np.concatenate([ql, qh, sc.view(np.uint8), d.reshape(n, 1).view(np.uint8)], axis=1)
    return out.reshape(rows, k // QK_K * 210)


def quantize(v, qtype):
    if qtype == T.Q6_K:
        return quantize_q6_k(v)
    return gguf.quants.quantize(v, qtype)


# ---- writing and reading back -----------------------------------------------------------------------

def write_gguf(path, config, sd, types, tokens, merges):
    """`types(gguf name, array) → GGMLQuantizationType` picks each tensor's type."""
    w = gguf.GGUFWriter(path, "gpt2")
    C = config["n_embd"]
    w.add_block_count(config["n_layer"])
    w.add_context_length(config["n_positions"])
    w.add_embedding_length(C)
    w.add_feed_forward_length(config.get("n_inner") or 4 * C)
    w.add_head_count(config["n_head"])
    w.add_layer_norm_eps(config["layer_norm_epsilon"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.NORMAL] * len(tokens))
    if merges:
        w.add_token_merges(merges)
    w.add_bos_token_id(config["bos_token_id"])
    w.add_eos_token_id(config["eos_token_id"])
    used = {}
    for name, v in gguf_tensors(sd):
        t = types(name, v)
        used[name] = t.name
        if t == T.F32:
            w.add_tensor(name, v.astype(np.float32))
        elif t == T.F16:
            w.add_tensor(name, v.astype(np.float16))
        else:
            w.add_tensor(name, quantize(v, t), raw_dtype=t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return used


def read_back(path):
    """The file through gguf-py: {GGUF name: (type name, dequantized float32 in numpy layout)}."""
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(shape)
        out[t.name] = (t.tensor_type.name, values)
    return r, out


def torch_logits(config, tensors, ids):
    """transformers' GPT2LMHeadModel (fp32, eager) over the dequantized tensors."""
    sd = {}
    for key in list(TOP) + ["h.%d.%s.%s" % (l, p, s) for l in range(config["n_layer"]) for p in BLOCK for s in ("weight", "bias")]:
        name = gguf_name(key)
        if name not in tensors:
            continue
        v = tensors[name][1]
        sd["transformer." + key if key != "lm_head.weight" else key] = torch.from_numpy(np.ascontiguousarray(v.T if key.endswith(CONV1D) else v))
    tied = "output.weight" not in tensors
    cfg = transformers.GPT2Config(vocab_size=tensors["token_embd.weight"][1].shape[0], n_positions=config["n_positions"],
                                  n_embd=config["n_embd"], n_layer=config["n_layer"], n_head=config["n_head"],
                                  n_inner=config.get("n_inner"), layer_norm_epsilon=config["layer_norm_epsilon"],
                                  activation_function="gelu_new", tie_word_embeddings=tied, attn_implementation="eager",
                                  bos_token_id=config["bos_token_id"], eos_token_id=config["eos_token_id"])
    model = transformers.GPT2LMHeadModel(cfg).eval()
    if tied:
        sd["lm_head.weight"] = sd["transformer.wte.weight"]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all(m.endswith((".attn.bias", ".attn.masked_bias")) for m in missing), (missing, unexpected)
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy().astype(np.float32)


def expected(name, path, config, ids, manifest_entry):
    _, tensors = read_back(path)
    logits = torch_logits(config, tensors, ids)
    out = {"input_ids": np.array(ids, np.int64), "logits": logits}
    for tname, (tname_type, values) in sorted(tensors.items()):
        if tname_type in ("F32", "F16"):
            continue
        rows = values.reshape(-1, values.shape[-1])
        pick = sorted(set([0, 1, 2, 3, rows.shape[0] - 1]))
        out["rows." + tname] = np.ascontiguousarray(rows[pick])
        out["row_ids." + tname] = np.array(pick, np.int64)
    safetensors.numpy.save_file(out, os.path.join(OUT, name + ".expected.safetensors"), metadata={"format": "gguf-expected"})
    manifest_entry["expected"] = name + ".expected.safetensors"
    return logits, tensors


def check_q6_k_layout(rng):
    """The numpy Q6_K quantizer against gguf-py's dequantizer: the bytes decode to exactly the values
    the quantizer meant (so its ql / qh / scales / d layout is ggml's), which are close to the input."""
    x = rng.standard_normal((4, 512)).astype(np.float32)
    meant = []
    back = gguf.quants.dequantize(quantize_q6_k(x, meant), T.Q6_K).reshape(x.shape)
    assert np.array_equal(back, meant[0]), "Q6_K layout differs from gguf-py's"
    assert float(np.max(np.abs(back - x))) < 0.5, "Q6_K quantizer error too large"


def fuzz_seeds(rng, tokens):
    """Tests/Fixtures/fuzz/FuzzGGUF: small whole files (≤ 16 KiB, scripts/fuzz.sh's FuzzGGUF max_len):
    an F32 model of n_embd 4 with a tokenizer of 8 tokens, and one of n_embd 32 whose matrices are
    Q4_0 / Q8_0 (an untied Q8_0 output), position_embd F16."""
    shutil.rmtree(FUZZ, ignore_errors=True)
    os.makedirs(FUZZ)
    small = {"n_embd": 4, "n_inner": 8, "n_layer": 1, "n_head": 1, "n_positions": 4, "layer_norm_epsilon": 1e-5,
             "bos_token_id": 0, "eos_token_id": 0}
    write_gguf(os.path.join(FUZZ, "tiny-f32.gguf"), small, random_model(rng, 4, 8, 1, 4, 8), lambda n, v: T.F32, tokens[:8], [])
    quant = dict(small, n_embd=32, n_inner=32, n_positions=2)
    kinds = {"blk.0.attn_output.weight": T.Q8_0, "output.weight": T.Q8_0, "position_embd.weight": T.F16}
    write_gguf(os.path.join(FUZZ, "tiny-quant.gguf"), quant, random_model(rng, 32, 32, 1, 2, 4, untied=True),
               lambda n, v: kinds.get(n, T.Q4_0 if v.ndim == 2 else T.F32), tokens[:4], [])
    for f in os.listdir(FUZZ):
        assert os.path.getsize(os.path.join(FUZZ, f)) <= 16 << 10, f


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    rng = np.random.default_rng(1313)
    check_q6_k_layout(rng)
    tokens, merges = gpt2_tokenizer_lists()
    write_vocab_twin(tokens, merges)
    manifest = {"generator": "scripts/make_gguf_fixtures.py", "gguf_version": importlib.metadata.version("gguf"),
                "numpy_version": np.__version__, "torch_version": torch.__version__,
                "transformers_version": transformers.__version__, "tolerance": TOL,
                "q6_k_quantizer": "numpy absmax quantizer in this script (gguf-py only dequantizes Q6_K); layout checked against gguf-py's dequantize",
                "tokenizer": {"twin": "vocab-1000", "tokens": len(tokens), "merges": len(merges)}, "fixtures": []}

    config, hub = tiny_hub()
    golden = read_safetensors(os.path.join(FIX, "models", "tiny-hub", "golden.safetensors"))
    # The first PROMPT tokens of the golden's second prompt (logits at those positions depend on them only).
    ids = [int(x) for x in golden["input_ids.1"][:PROMPT]]
    untied = dict(hub)
    untied["lm_head.weight"] = (rng.standard_normal((VOCAB, config["n_embd"])) * 0.2).astype(np.float32)

    def matrix(n, v):
        return v.ndim == 2 and n != "position_embd.weight"

    files = [
        ("tiny-f32", hub, lambda n, v: T.F32, "float32", "models/tiny-hub"),
        ("tiny-f16", hub, lambda n, v: T.F16 if v.ndim == 2 else T.F32, "float16", "models/tiny-hub"),
        ("tiny-q8_0", untied, lambda n, v: T.Q8_0 if v.ndim == 2 else T.F32, "float32", None),
        ("tiny-q4_0", hub, lambda n, v: T.Q4_0 if matrix(n, v) else (T.F16 if v.ndim == 2 else T.F32), "q4", "models/tiny-hub"),
        ("tiny-q4_0-mixed", hub, lambda n, v: T.Q8_0 if n == "token_embd.weight" else (T.Q4_0 if matrix(n, v) else T.F32), "q4",
         "models/tiny-hub"),
    ]
    wide_config = {"n_embd": 256, "n_inner": 256, "n_layer": 1, "n_head": 4, "n_positions": 32, "layer_norm_epsilon": 1e-5,
                   "bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"]}
    wide = random_model(rng, 256, 256, 1, 32, VOCAB)
    for name, sd, types, served, twin in files + [("wide-q6_k", wide, lambda n, v: T.Q6_K if matrix(n, v) else T.F32, "float32", None)]:
        cfg = config if name.startswith("tiny") else wide_config
        path = os.path.join(OUT, name + ".gguf")
        used = write_gguf(path, cfg, sd, types, tokens, merges)
        entry = {"name": name, "file": name + ".gguf", "twin": twin, "served_weight_type": served,
                 "tied": "output.weight" not in used, "types": used,
                 "config": {k: cfg.get(k) for k in ("n_embd", "n_inner", "n_layer", "n_head", "n_positions")}}
        prompt = ids if cfg["n_positions"] >= len(ids) else ids[:cfg["n_positions"]]
        logits, tensors = expected(name, path, cfg, prompt, entry)
        if name == "tiny-f32":
            worst = float(np.max(np.abs(logits - golden["logits.1"][:len(ids)])))
            assert worst <= TOL, "tiny-f32 vs tiny-hub's golden: %g" % worst
        manifest["fixtures"].append(entry)

    fuzz_seeds(rng, tokens)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    manifest["total_bytes"] = total
    with open(os.path.join(OUT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("wrote %d GGUF fixtures, %d bytes" % (len(manifest["fixtures"]), total))


if __name__ == "__main__":
    main()
