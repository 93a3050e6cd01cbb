#!/usr/bin/env python3
"""Make the TensorFlow and Flax checkpoint fixtures of gpt2d: Tests/Fixtures/tfflax/<name>/.

Runs in its own virtual environment, which it creates and fills from PyPI when missing
($GPT2D_TFFLAX_VENV, default .build/tfflax-venv): transformers 4.57.1 (the last version with the TF
and Flax classes), tensorflow-cpu 2.15.1 (Keras 2, which transformers' TF classes need), jax/jaxlib
0.4.13 and flax 0.7.0 (the versions transformers 4.x pins for Flax). No torch: the committed
safetensors fixtures are read with safetensors' numpy API and given to transformers' own
PyTorch→TF and PyTorch→Flax converters (load_pytorch_state_dict_in_tf2_model,
convert_pytorch_state_dict_to_flax), then each model is written with save_pretrained — the files
are exactly what transformers writes. Each fixture has a safetensors "twin" with the same weights:

    tf-lm            models/tiny-hub             TFGPT2LMHeadModel, tf_model.h5 (F32)
    tf-base          models/tiny-hub             TFGPT2Model
    tf-seqcls        tfflax/seqcls-twin          TFGPT2ForSequenceClassification (3 labels, pad 998)
    tf-double-heads  tfflax/double-heads-twin    TFGPT2DoubleHeadsModel (summary: cls_index, proj, tanh)
    tf-sharded       models/tiny-hub             TFGPT2LMHeadModel, max_shard_size 100KB:
                                                 tf_model-0000K-of-0000N.h5 + tf_model.h5.index.json
                                                 (the first shard is empty: wte alone exceeds 100KB)
    tf-seqcls-sharded tfflax/seqcls-twin         TFGPT2ForSequenceClassification, max_shard_size 100KB
    flax-lm          models/tiny-hub             FlaxGPT2LMHeadModel, flax_model.msgpack (F32)
    flax-untied      tfflax/untied-twin          FlaxGPT2LMHeadModel, untied lm_head/kernel (golden: Flax's own)
    flax-f16         models/tiny-f16             FlaxGPT2LMHeadModel, params to_fp16 (F16 leaves)
    flax-bf16        models/tiny-bf16            FlaxGPT2LMHeadModel, params to_bf16 (BF16 leaves)
    flax-sharded     models/tiny-hub             FlaxGPT2Model (no `transformer` level), max_shard_size
                                                 60KB: flax_model-0000K-of-0000N.msgpack + its index
    bad-h5-shape     tf-lm with h_._0/ln_1/gamma of 31 values (expected 32)
    bad-h5-dtype     tf-lm with h_._0/attn/c_attn/bias as int32
tf-lm and flax-lm link GPT-2's vocab.json / merges.txt so the daemon can serve them (token ids < 1000).
It also writes FuzzFlax's seeds (Tests/Fixtures/fuzz/FuzzFlax). The two head twins are written here (tiny-hub's body + seeded random heads) with safetensors: the
committed task fixtures have GPT-2's 50257-token vocabulary, too large to copy into two more formats.

Checks, before anything is kept: every model is loaded back from its directory with
from_pretrained and computes its twin's golden logits / hidden states (golden.safetensors, written
by PyTorch transformers) within 1e-4; the head fixtures' outputs (TF's own computation) are
recorded in golden.json for the Swift tests, which compare gpt2d with them and with the twin.

Usage (from the repository root):  python3 scripts/make_tf_flax_fixtures.py
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_venv import reexec_in_venv, fresh_dir, link_vocab  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIX = os.path.join(ROOT, "Tests", "Fixtures")
OUT = os.path.join(FIX, "tfflax")
VENV = os.environ.get("GPT2D_TFFLAX_VENV", os.path.join(ROOT, ".build", "tfflax-venv"))
PINS = ["transformers==4.57.1", "tensorflow-cpu==2.15.1", "jax==0.4.13", "jaxlib==0.4.13", "flax==0.7.0",
        "numpy==1.26.4", "safetensors", "h5py", "msgpack"]
TOL = 1e-4



reexec_in_venv(VENV, PINS, probe="import transformers, tensorflow, flax; assert transformers.__version__ == '4.57.1'")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
import safetensors.numpy  # noqa: E402
import transformers  # noqa: E402
from transformers import GPT2Config  # noqa: E402
from transformers import (FlaxGPT2LMHeadModel, FlaxGPT2Model, TFGPT2DoubleHeadsModel,  # noqa: E402
                          TFGPT2ForSequenceClassification, TFGPT2LMHeadModel, TFGPT2Model)
from transformers.modeling_flax_pytorch_utils import convert_pytorch_state_dict_to_flax  # noqa: E402
from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16, "I64": np.int64}


def read_safetensors(path):
    """name → numpy array, BF16 included (safetensors' numpy API has no bfloat16)."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b:8 + n + end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return out


def pt_state(twin, prefix=True):
    """The twin's tensors as a PyTorch state dict of a head class (`transformer.` keys, no mask
    buffers), widened to float32 (the converters' numpy path)."""
    flat = read_safetensors(os.path.join(FIX, twin, "model.safetensors"))
    sd = {}
    for k, v in flat.items():
        if k.endswith(".attn.bias") or k.endswith(".attn.masked_bias"):
            continue
        body = k[len("transformer."):] if k.startswith("transformer.") else k
        head = body.startswith(("score.", "multiple_choice_head.", "lm_head."))
        sd[body if head or not prefix else "transformer." + body] = v.astype(np.float32)
    return sd


def config_of(twin):
    return GPT2Config.from_json_file(os.path.join(FIX, twin, "config.json"))


def golden(twin):
    return read_safetensors(os.path.join(FIX, twin, "golden.safetensors"))




def damaged_h5(name, source, suffix, replace, manifest):
    """A copy of `source` (a fixture directory) whose dataset ending in `suffix` is `replace(old)`."""
    import h5py
    d = fresh_dir(OUT, name)
    for f in os.listdir(source):
        if not os.path.islink(os.path.join(source, f)):
            shutil.copy(os.path.join(source, f), d)
    with h5py.File(os.path.join(d, "tf_model.h5"), "r+") as f:
        found = []
        f.visititems(lambda n, o: found.append(n) if isinstance(o, h5py.Dataset) and n.endswith(suffix) else None)
        assert len(found) == 1, found
        new = replace(f[found[0]][()])
        del f[found[0]]
        f.create_dataset(found[0], data=new)
    manifest["damaged"].append(dict(name=name, source=os.path.basename(source), dataset=found[0],
                                    shape=list(new.shape), dtype=str(new.dtype)))


def close(a, b, what):
    worst = float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
    assert worst <= TOL, "%s: max |Δ| = %g" % (what, worst)
    return worst


def check_lm(model, twin, what, hidden=False):
    g = golden(twin)
    for i in range(3):
        ids = g["input_ids.%d" % i].astype(np.int32)[None, :]
        out = model(ids)
        if hidden:
            close(np.asarray(out.last_hidden_state)[0], g["hidden.%d" % i], "%s hidden.%d" % (what, i))
        else:
            close(np.asarray(out.logits)[0], g["logits.%d" % i], "%s logits.%d" % (what, i))


def tf_fixture(name, cls, twin, manifest, shard=None):
    d = fresh_dir(OUT, name)
    model = cls(config_of(twin))
    load_pytorch_state_dict_in_tf2_model(model, pt_state(twin))
    model.save_pretrained(d, **({"max_shard_size": shard} if shard else {}))
    back = cls.from_pretrained(d)
    files = sorted(os.listdir(d))
    weights = ["tf_model.h5.index.json"] if shard else ["tf_model.h5"]
    assert all(f in files for f in weights) and not any(f.endswith((".safetensors", ".bin", ".msgpack")) for f in files), files
    if shard:
        index = json.load(open(os.path.join(d, "tf_model.h5.index.json")))
        assert "tf_model.h5" not in files and len(set(index["weight_map"].values())) >= 2, files
    entry = dict(name=name, twin=twin, format="tensorflow", model_class=cls.__name__, files=files, dtype="F32")
    if shard:
        entry["sharded"] = True
    manifest["fixtures"].append(entry)
    return d, back


def flax_fixture(name, cls, twin, manifest, dtype="F32", shard=None, hidden=False, golden_from_model=False):
    d = fresh_dir(OUT, name)
    config = config_of(twin)
    model = cls(config, seed=0)
    params = convert_pytorch_state_dict_to_flax(pt_state(twin, prefix=cls is not FlaxGPT2Model), model)
    if dtype == "F16":
        params = model.to_fp16(params)
    if dtype == "BF16":
        params = model.to_bf16(params)
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(d, params=params, **kwargs)
    back = cls.from_pretrained(d)
    if golden_from_model:
        # The twin's golden: models/tiny-hub's prompts through the Flax model just written.
        g = golden("models/tiny-hub")
        out = {}
        for i in range(3):
            ids = g["input_ids.%d" % i]
            out["input_ids.%d" % i] = ids
            out["logits.%d" % i] = np.asarray(back(ids.astype(np.int32)[None, :]).logits)[0].astype(np.float32)
        safetensors.numpy.save_file(out, os.path.join(FIX, twin, "golden.safetensors"), metadata={"format": "flax"})
    check_lm(back, twin, name, hidden=hidden)
    files = sorted(os.listdir(d))
    manifest["fixtures"].append(dict(name=name, twin=twin, format="flax", model_class=cls.__name__,
                                     files=files, dtype=dtype, sharded=shard is not None))


def head_twin(name, base, update, heads):
    """A safetensors twin: `base`'s body under `transformer.` + `heads`, config `base` + `update`."""
    d = fresh_dir(OUT, name)
    config = json.load(open(os.path.join(FIX, base, "config.json")))
    config.update(update)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    tensors = pt_state(base)
    tensors.update(heads)
    safetensors.numpy.save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    return "tfflax/" + name


def sequences(rng, vocab, pad):
    """Token-id prompts: lengths 1…24, two with trailing pad tokens."""
    out = [rng.integers(0, vocab - 2, size=n).tolist() for n in (1, 5, 12, 24)]
    out.append(out[2][:7] + [pad] * 3)
    out.append(out[3][:16] + [pad] * 2)
    return out


# The config FuzzFlax (Fuzz/FuzzFlax/FuzzFlax.swift) loads its inputs with: keep the two equal.
FUZZ_CONFIG = {"model_type": "gpt2", "vocab_size": 16, "n_embd": 4, "n_layer": 1, "n_head": 1, "n_positions": 8,
               "n_ctx": 8, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05, "tie_word_embeddings": True}


def fuzz_seeds():
    """Tests/Fixtures/fuzz/FuzzFlax: flax_model.msgpack files of FUZZ_CONFIG's shape (F32, F16), < 4 KB."""
    d = os.path.join(FIX, "fuzz", "FuzzFlax")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model = FlaxGPT2LMHeadModel(GPT2Config(**FUZZ_CONFIG), seed=0)
    for name, params in (("tiny-lm", model.params), ("tiny-f16", model.to_fp16(model.params))):
        tmp = os.path.join(d, name)
        model.save_pretrained(tmp, params=params)
        shutil.move(os.path.join(tmp, "flax_model.msgpack"), os.path.join(d, name + ".msgpack"))
        shutil.rmtree(tmp)
        assert os.path.getsize(os.path.join(d, name + ".msgpack")) <= 4096


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    import flax
    import jax
    import tensorflow as tf
    manifest = {"generator": "scripts/make_tf_flax_fixtures.py", "transformers_version": transformers.__version__,
                "tensorflow_version": tf.__version__, "flax_version": flax.__version__, "jax_version": jax.__version__,
                "tolerance": TOL, "fixtures": [], "damaged": []}
    rng = np.random.default_rng(1313)

    # TensorFlow: the LM head, then the two head classes on their own twins.
    d, back = tf_fixture("tf-lm", TFGPT2LMHeadModel, "models/tiny-hub", manifest)
    check_lm(back, "models/tiny-hub", "tf-lm")
    link_vocab(d)
    _, back = tf_fixture("tf-base", TFGPT2Model, "models/tiny-hub", manifest)
    check_lm(back, "models/tiny-hub", "tf-base", hidden=True)
    # Damaged copies: a layer norm of the wrong shape, a bias of an integer type.
    damaged_h5("bad-h5-shape", d, "h_._0/ln_1/gamma:0", lambda a: a[:-1], manifest)
    damaged_h5("bad-h5-dtype", d, "h_._0/attn/c_attn/bias:0", lambda a: a.astype(np.int32), manifest)

    C = config_of("models/tiny-hub").n_embd
    twin = head_twin("seqcls-twin", "models/tiny-hub", {
        "architectures": ["GPT2ForSequenceClassification"], "pad_token_id": 998,
        "id2label": {"0": "NEG", "1": "NEU", "2": "POS"}, "label2id": {"NEG": 0, "NEU": 1, "POS": 2},
    }, {"score.weight": (rng.standard_normal((3, C)) * 0.5).astype(np.float32)})
    d, back = tf_fixture("tf-seqcls", TFGPT2ForSequenceClassification, twin, manifest)
    check_lm(back.transformer, "models/tiny-hub", "tf-seqcls body", hidden=True)
    cases = []
    for ids in sequences(rng, 1000, 998):
        logits = np.asarray(back(np.array([ids], np.int32)).logits)[0]
        cases.append({"ids": ids, "logits": [float(x) for x in logits]})
    json.dump({"cases": cases}, open(os.path.join(d, "golden.json"), "w"), indent=1)
    seqcls_twin, seqcls_cases = twin, cases

    twin = head_twin("double-heads-twin", "models/tiny-hub", {
        "architectures": ["GPT2DoubleHeadsModel"], "summary_type": "cls_index", "summary_use_proj": True,
        "summary_proj_to_labels": True, "summary_activation": "tanh", "summary_first_dropout": 0.1,
        "id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0},
    }, {"multiple_choice_head.summary.weight": (rng.standard_normal((1, C)) * 0.5).astype(np.float32),
        "multiple_choice_head.summary.bias": (rng.standard_normal((1,)) * 0.5).astype(np.float32)})
    d, back = tf_fixture("tf-double-heads", TFGPT2DoubleHeadsModel, twin, manifest)
    check_lm(back.transformer, "models/tiny-hub", "tf-double-heads body", hidden=True)
    cases = []
    for n in (2, 3, 4):
        length = int(rng.integers(4, 12))
        choices = [rng.integers(0, 998, size=length).tolist() for _ in range(n)]
        mc = [length - 1 - i % 2 for i in range(n)]
        out = back(np.array([choices], np.int32), mc_token_ids=np.array([mc], np.int32))
        cases.append({"choices": choices, "mc_token_ids": mc, "mc_logits": [float(x) for x in np.asarray(out.mc_logits)[0]]})
    json.dump({"cases": cases}, open(os.path.join(d, "golden.json"), "w"), indent=1)

    # Sharded TensorFlow (tf_model.h5.index.json): the LM head and a head class, each loaded back with
    # from_pretrained and checked against its twin's goldens (no random draws here: the fixtures
    # after these come from the same random stream as before).
    _, back = tf_fixture("tf-sharded", TFGPT2LMHeadModel, "models/tiny-hub", manifest, shard="100KB")
    check_lm(back, "models/tiny-hub", "tf-sharded")
    _, back = tf_fixture("tf-seqcls-sharded", TFGPT2ForSequenceClassification, seqcls_twin, manifest, shard="100KB")
    for c in seqcls_cases:
        close(np.asarray(back(np.array([c["ids"]], np.int32)).logits)[0], c["logits"], "tf-seqcls-sharded %s" % c["ids"])

    # Flax.
    flax_fixture("flax-lm", FlaxGPT2LMHeadModel, "models/tiny-hub", manifest)
    link_vocab(os.path.join(OUT, "flax-lm"))
    # An untied LM head (lm_head/kernel). models/tiny-untied-relu cannot be the twin: it sets
    # scale_attn_weights false, which the Flax classes ignore. Its golden is Flax's own output.
    twin = head_twin("untied-twin", "models/tiny-hub", {"tie_word_embeddings": False},
                     {"lm_head.weight": (rng.standard_normal((1000, C)) * 0.2).astype(np.float32)})
    flax_fixture("flax-untied", FlaxGPT2LMHeadModel, twin, manifest, golden_from_model=True)
    flax_fixture("flax-f16", FlaxGPT2LMHeadModel, "models/tiny-f16", manifest, dtype="F16")
    flax_fixture("flax-bf16", FlaxGPT2LMHeadModel, "models/tiny-bf16", manifest, dtype="BF16")
    flax_fixture("flax-sharded", FlaxGPT2Model, "models/tiny-hub", manifest, shard="60KB", hidden=True)
    assert any(f.endswith(".index.json") for f in manifest["fixtures"][-1]["files"]), "flax wrote no shard index"

    fuzz_seeds()
    total = sum(os.lstat(os.path.join(dp, f)).st_size for dp, _, fs in os.walk(OUT) for f in fs
                if not os.path.islink(os.path.join(dp, f)))
    manifest["total_bytes"] = total
    with open(os.path.join(OUT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("wrote %d fixtures, %d bytes" % (len(manifest["fixtures"]), total))


if __name__ == "__main__":
    main()
