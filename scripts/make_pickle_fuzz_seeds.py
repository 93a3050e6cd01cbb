#!/usr/bin/env python3
"""Write FuzzPickle's seed corpus: Tests/Fixtures/fuzz/FuzzPickle/ (a few KB in all).

Each seed starts with FuzzPickle's mode byte (Fuzz/FuzzPickle/FuzzPickle.swift): 0x00 + a whole
pytorch_model.bin (torch.save, zip and legacy layouts), or 0x01 + one pickle (the zip's data.pkl, and
plain pickles of other shapes the unpickler must refuse cleanly). The state dicts are tiny but hold
what GPT-2 checkpoints hold: F32/F16/BF16 storages, a tied parameter (two names, one storage), a
transposed view (strides (1, K)) and a slice with a storage offset; plus a malicious payload (os.system)
that the unpickler refuses — pickling it here never runs it.

Usage (from the repository root, torch 2.13.0+cpu as for make_pickle_fixtures.py):
    python3 scripts/make_pickle_fuzz_seeds.py
The zip records hold torch's random serialization id, so the seed bytes differ between runs.
"""
import collections
import io
import os
import pickle
import shutil
import zipfile

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "fuzz", "FuzzPickle")


class Payload:
    """Pickles as a call of `fn(*args)`: what a malicious pytorch_model.bin does."""
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def state_dicts():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7
    shared = torch.linspace(-1, 1, 10)
    yield "f32-tied", collections.OrderedDict([("wte.weight", base), ("lm_head.weight", base), ("ln_f.bias", torch.ones(4))])
    yield "f32-views", collections.OrderedDict([("h.0.attn.c_attn.weight", base.t()), ("h.0.attn.c_attn.bias", shared[2:6]),
                                                ("h.0.mlp.c_fc.bias", shared[6:9])])
    yield "f16", collections.OrderedDict([("wpe.weight", base.half()), ("ln_f.weight", torch.zeros(4, dtype=torch.float16))])
    yield "bf16", collections.OrderedDict([("wpe.weight", base.bfloat16())])
    yield "empty-tensor", collections.OrderedDict([("e", torch.zeros(0, 4)), ("s", torch.tensor(3.5))])


def saved(obj, legacy):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def data_pkl(archive):
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        return z.read(name)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)

    def write(name, data):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)

    for name, sd in state_dicts():
        z = saved(sd, legacy=False)
        write(name + ".zip", b"\x00" + z)
        write(name + ".pkl", b"\x01" + data_pkl(z))
        write(name + ".legacy", b"\x00" + saved(sd, legacy=True))
    evil = collections.OrderedDict([("wpe.weight", torch.ones(2)), ("wte.weight", Payload(os.system, ("true",)))])
    z = saved(evil, legacy=False)
    write("malicious-system.zip", b"\x00" + z)
    write("malicious-system.pkl", b"\x01" + data_pkl(z))
    # Plain pickles of what is not a state dict (each refused with a typed error).
    for proto in (2, 4, 5):
        write("plain-p%d.pkl" % proto, b"\x01" + pickle.dumps(
            {"a": [1, 2.5, None, True, "x" * 3, b"yz"], "b": (1, (2, (3,))), 7: {"n": -(2 ** 70)}}, protocol=proto))
    sizes = sorted(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("%s: %d seeds, %d bytes, largest %d" % (OUT, len(sizes), sum(sizes), sizes[-1]))


if __name__ == "__main__":
    main()
