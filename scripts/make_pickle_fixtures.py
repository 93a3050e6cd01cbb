#!/usr/bin/env python3
"""Make the PyTorch-checkpoint fixtures of gpt2d: Tests/Fixtures/pytorch/<name>/.

Written and run with Python 3.11 and torch 2.13.0+cpu (the global install). Each fixture reuses the
tensors of a committed safetensors fixture (its "twin", named in Tests/Fixtures/pytorch/MANIFEST.json)
and writes them with torch.save, so `swift test` needs no Python and the Swift tests compare each
PyTorch directory with its twin:

    hub-zip               models/tiny-hub, zip layout (torch >= 1.6), F32, hub key layout with the old
                          attn.bias / attn.masked_bias buffers, lm_head.weight tied to wte (same storage)
    untied-legacy-views   models/tiny-untied-relu, legacy layout (_use_new_zipfile_serialization=False);
                          every Conv1D weight stored as a transposed view (strides (1, K)), every bias a
                          slice (storage offset) of one shared storage
    f16-zip               models/tiny-f16, zip layout, F16 storages
    bf16-legacy           models/tiny-bf16, legacy layout, BF16 storages
    sharded-zip           models/tiny-sharded, two zip shards pytorch_model-0000K-of-00002.bin +
                          pytorch_model.bin.index.json
    seqcls-zip            tasks/seqcls-pad-eos (GPT2ForSequenceClassification, F16), zip layout
    malicious-system      a zip pytorch_model.bin whose pickle calls os.system (pickled as posix.system)
    malicious-eval        a legacy pytorch_model.bin whose pickle calls builtins.eval
    malicious-popen       a zip pytorch_model.bin whose pickle calls subprocess.Popen
Each malicious payload would create /tmp/gpt2d-pickle-payload-ran (PAYLOAD_MARKER) if it ran; the
tests check that loading refuses the file naming the global and that the marker never appears.

Usage (from the repository root):  python3 scripts/make_pickle_fixtures.py
Determinism: the tensors are the twins' bytes; torch.save's zip records hold a random
serialization id, so the .bin files differ between runs, the tensors they hold do not.
"""
import collections
import json
import os
import shutil
import subprocess

import torch
from safetensors.torch import load_file

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIX = os.path.join(ROOT, "Tests", "Fixtures")
OUT = os.path.join(FIX, "pytorch")
PAYLOAD_MARKER = "/tmp/gpt2d-pickle-payload-ran"
assert torch.__version__ == "2.13.0+cpu", torch.__version__


def fresh(name, twin):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(os.path.join(FIX, twin, "config.json"), d)
    for tok in ("vocab.json", "merges.txt"):
        src = os.path.join(FIX, twin, tok)
        if os.path.lexists(src):
            os.symlink(os.path.join("..", "..", "vocab", "gpt2", tok), os.path.join(d, tok))
    return d


def state_of(twin):
    """The twin's tensors as torch.save would see a model's state_dict: an OrderedDict, and for a
    tied model lm_head.weight sharing wte's storage."""
    path = os.path.join(FIX, twin, "model.safetensors")
    if os.path.exists(path):
        flat = load_file(path)
    else:
        index = json.load(open(os.path.join(FIX, twin, "model.safetensors.index.json")))
        flat = {}
        for shard in sorted(set(index["weight_map"].values())):
            flat.update(load_file(os.path.join(FIX, twin, shard)))
    sd = collections.OrderedDict(sorted(flat.items()))
    config = json.load(open(os.path.join(FIX, twin, "config.json")))
    wte = "transformer.wte.weight" if "transformer.wte.weight" in sd else "wte.weight"
    if config.get("tie_word_embeddings", True) and "lm_head.weight" not in sd:
        sd["lm_head.weight"] = sd[wte]
    sd._metadata = collections.OrderedDict({"": {"version": 1}})
    return sd


def with_views(sd):
    """Conv1D weights [K, N] as transposed views of an [N, K] storage; biases as slices of one
    shared 1-D storage (each at its own storage offset)."""
    out = collections.OrderedDict()
    biases = [k for k, v in sd.items() if k.endswith(".bias") and v.dim() == 1]
    shared = torch.cat([sd[k] for k in biases]) if biases else None
    at = 0
    for k, v in sd.items():
        if k in biases:
            out[k] = shared[at:at + v.numel()]
            at += v.numel()
        elif v.dim() == 2 and any(s in k for s in ("c_attn", "c_proj", "c_fc")):
            t = v.t().contiguous().t()
            assert t.stride() == (1, v.shape[0]) and torch.equal(t, v)
            out[k] = t
        else:
            out[k] = v
    out._metadata = sd._metadata
    return out


def save(sd, path, legacy=False):
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    back = torch.load(path, weights_only=True)
    assert list(back.keys()) == list(sd.keys())
    for k in sd:
        assert torch.equal(back[k], sd[k]) and back[k].dtype == sd[k].dtype, k


class Payload:
    """Pickles as a call of `fn(*args)`: what a malicious pytorch_model.bin does."""
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    manifest = {"generator": "scripts/make_pickle_fixtures.py", "torch_version": torch.__version__,
                "payload_marker": PAYLOAD_MARKER, "fixtures": []}

    def record(name, twin, layout, files, **extra):
        manifest["fixtures"].append(dict(name=name, twin=twin, layout=layout, files=files, **extra))

    d = fresh("hub-zip", "models/tiny-hub")
    save(state_of("models/tiny-hub"), os.path.join(d, "pytorch_model.bin"))
    record("hub-zip", "models/tiny-hub", "zip", ["pytorch_model.bin"], dtype="F32", tied=True)

    d = fresh("untied-legacy-views", "models/tiny-untied-relu")
    save(with_views(state_of("models/tiny-untied-relu")), os.path.join(d, "pytorch_model.bin"), legacy=True)
    record("untied-legacy-views", "models/tiny-untied-relu", "legacy", ["pytorch_model.bin"], dtype="F32", strided=True)

    d = fresh("f16-zip", "models/tiny-f16")
    save(state_of("models/tiny-f16"), os.path.join(d, "pytorch_model.bin"))
    record("f16-zip", "models/tiny-f16", "zip", ["pytorch_model.bin"], dtype="F16")

    d = fresh("bf16-legacy", "models/tiny-bf16")
    save(state_of("models/tiny-bf16"), os.path.join(d, "pytorch_model.bin"), legacy=True)
    record("bf16-legacy", "models/tiny-bf16", "legacy", ["pytorch_model.bin"], dtype="BF16")

    d = fresh("sharded-zip", "models/tiny-sharded")
    sd = state_of("models/tiny-sharded")
    keys = list(sd.keys())
    halves = [keys[:len(keys) // 2], keys[len(keys) // 2:]]
    weight_map, names = {}, []
    for i, part in enumerate(halves):
        name = "pytorch_model-%05d-of-%05d.bin" % (i + 1, len(halves))
        shard = collections.OrderedDict((k, sd[k]) for k in part)
        save(shard, os.path.join(d, name))
        weight_map.update({k: name for k in part})
        names.append(name)
    total = sum(v.numel() * v.element_size() for k, v in sd.items() if k != "lm_head.weight")
    with open(os.path.join(d, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    record("sharded-zip", "models/tiny-sharded", "zip", names + ["pytorch_model.bin.index.json"], dtype="F32")

    d = fresh("seqcls-zip", "tasks/seqcls-pad-eos")
    save(state_of("tasks/seqcls-pad-eos"), os.path.join(d, "pytorch_model.bin"))
    record("seqcls-zip", "tasks/seqcls-pad-eos", "zip", ["pytorch_model.bin"], dtype="F16")

    touch = "touch " + PAYLOAD_MARKER
    for name, fn, args, legacy, glob in [
        ("malicious-system", os.system, (touch,), False, "posix.system"),
        ("malicious-eval", eval, ("__import__('os').system(%r)" % touch,), True, "builtins.eval"),
        ("malicious-popen", subprocess.Popen, (["touch", PAYLOAD_MARKER],), False, "subprocess.Popen"),
    ]:
        d = fresh(name, "models/tiny-hub")
        sd = collections.OrderedDict()
        sd["wpe.weight"] = state_of("models/tiny-hub")["wpe.weight"]  # one real tensor first
        sd["wte.weight"] = Payload(fn, args)
        torch.save(sd, os.path.join(d, "pytorch_model.bin"), _use_new_zipfile_serialization=not legacy)
        record(name, "models/tiny-hub", "legacy" if legacy else "zip", ["pytorch_model.bin"], refused_global=glob)
    assert not os.path.exists(PAYLOAD_MARKER), "a payload ran while writing the fixtures"

    with open(os.path.join(OUT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
