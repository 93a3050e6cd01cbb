#!/usr/bin/env python3
"""Make the bitsandbytes-saved checkpoint fixtures of gpt2d: Tests/Fixtures/bnb/<name>/ (issue #13 point 4).

Runs in its own virtual environment, which it creates and fills from PyPI when missing
($GPT2D_BNB_VENV, default .build/bnb-venv; made with --system-site-packages so the globally installed
torch is reused): bitsandbytes 0.50.2 (its CPU build), transformers 4.57.1 (4.x quantizes with
bitsandbytes on a CPU-only machine) and accelerate 1.15.0 (which device_map needs).

Fixtures (all written by transformers' own save_pretrained after from_pretrained with a
BitsAndBytesConfig, device_map="cpu", dtype float32):

    twin           a seeded random GPT2LMHeadModel (vocab 512, n_embd 64, 4 heads, 2 layers, 64
                   positions): every Linear's in_features is a multiple of bitsandbytes' 64-value
                   blocks, so its flat blocks over [out, in] are whole rows. model.safetensors, F32.
    nf4            load_in_4bit, bnb_4bit_quant_type "nf4", no double quantization
    nf4-double     load_in_4bit, "nf4", bnb_4bit_use_double_quant=True
    fp4            load_in_4bit, "fp4"
    int8           load_in_8bit (LLM.int8: int8 weight [out, in] + SCB row absmax)

Each quantized directory also gets expected.safetensors: for input_ids.0 (48 tokens) the logits computed by transformers/torch with a plain float GPT2LMHeadModel whose
Conv1D weights are bitsandbytes' DEQUANTIZED weights of the saved checkpoint (dequantize_4bit /
int8_vectorwise_dequant, loaded back from disk), and those dequantized [out, in] matrices of
h.0.attn.c_proj and h.1.attn.c_proj (`dequantized.<module>`). bnb.safetensors (top level) holds
bitsandbytes' FP4 code book (get_4bit_type("fp4")), a 96×128 tensor and its fp4 quantize_4bit bytes,
absmax and dequantized values. MANIFEST.json lists what was written, with the versions used.
Each directory links GPT-2's vocab.json / merges.txt so the daemon can serve it (token ids < 512).
It also writes FuzzQuantState's seeds (Tests/Fixtures/fuzz/FuzzQuantState: a quant-type byte, then
a quant_state blob — the fixtures' own and a few hand-made ones) and its dictionary.

Usage (from the repository root):  python3 scripts/make_bnb_fixtures.py
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_venv import reexec_in_venv, fresh_dir, link_vocab  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "bnb")
VENV = os.environ.get("GPT2D_BNB_VENV", os.path.join(ROOT, ".build", "bnb-venv"))
PINS = ["bitsandbytes==0.50.2", "transformers==4.57.1", "accelerate==1.15.0"]
SHAPE = dict(vocab_size=512, n_embd=64, n_head=4, n_layer=2, n_positions=64)
VARIANTS = {
    "nf4": dict(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=False),
    "nf4-double": dict(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True),
    "fp4": dict(load_in_4bit=True, bnb_4bit_quant_type="fp4", bnb_4bit_use_double_quant=False),
    "int8": dict(load_in_8bit=True),
}
RECORDED = ["h.0.attn.c_proj", "h.1.attn.c_proj"]





def dequantized_weights(model):
    """{module name without 'transformer.': bitsandbytes' dequantized [out, in] F32 weight}."""
    import bitsandbytes as bnb
    import bitsandbytes.functional as F
    out = {}
    for name, m in model.named_modules():
        key = name[len("transformer."):] if name.startswith("transformer.") else name
        if isinstance(m, bnb.nn.Linear4bit):
            out[key] = F.dequantize_4bit(m.weight.data, m.weight.quant_state).float()
        elif isinstance(m, bnb.nn.Linear8bitLt):
            w = m.weight
            if w.dtype != __import__("torch").int8:
                raise SystemExit(f"{name}: Linear8bitLt weight is {w.dtype}, not int8: not quantized on this CPU")
            out[key] = F.int8_vectorwise_dequant(w.data, w.SCB).float()
    return out


FUZZ = os.path.join(ROOT, "Tests", "Fixtures", "fuzz")
FUZZ_WORDS = ['"quant_type"', '"blocksize"', '"dtype"', '"shape"', '"nested_blocksize"', '"nested_dtype"',
              '"nested_offset"', '"nf4"', '"fp4"', '"float32"', '"float16"', '"bfloat16"', "64", "256", "1e308", "-0.0"]


def write_fuzz_seeds():
    """FuzzQuantState's corpus: byte 0 names the key's quant type (even nf4, odd fp4), then the blob."""
    from safetensors import safe_open
    d = os.path.join(FUZZ, "FuzzQuantState")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    seeds = {
        "blocksize-128": b'\x00{"quant_type": "nf4", "blocksize": 128, "dtype": "float32", "shape": [64, 64]}',
        "wrong-type": b'\x01{"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [64, 64]}',
        "half-nested": b'\x00{"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [64, 64], "nested_offset": 1}',
    }
    for name in ("nf4", "nf4-double", "fp4"):
        with safe_open(os.path.join(OUT, name, "model.safetensors"), "pt") as f:
            key = next(k for k in sorted(f.keys()) if ".quant_state.bitsandbytes__" in k)
            blob = bytes(f.get_tensor(key).tolist())
        seeds[name] = (b"\x01" if key.endswith("fp4") else b"\x00") + blob
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    with open(os.path.join(FUZZ, "FuzzQuantState.dict"), "w") as f:
        for w in FUZZ_WORDS:
            f.write(json.dumps(w) + "\n")


def main():
    reexec_in_venv(VENV, PINS, system_site_packages=True,
                   probe="import accelerate, bitsandbytes, transformers; assert bitsandbytes.__version__ == '0.50.2'; "
                         "assert transformers.__version__ == '4.57.1'")
    import bitsandbytes as bnb
    import bitsandbytes.functional as F
    import safetensors
    import torch
    import transformers
    from safetensors.torch import save_file
    from transformers import BitsAndBytesConfig, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(13)
    os.makedirs(OUT, exist_ok=True)
    twin = fresh_dir(OUT, "twin")
    config = GPT2Config(**SHAPE, initializer_range=0.05)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(twin, safe_serialization=True)
    link_vocab(twin)

    g = torch.Generator().manual_seed(7)
    inputs = [torch.randint(0, SHAPE["vocab_size"], (1, 48), generator=g)]
    manifest = {"generator": "scripts/make_bnb_fixtures.py", "bitsandbytes_version": bnb.__version__,
                "transformers_version": transformers.__version__, "torch_version": torch.__version__,
                "safetensors_version": safetensors.__version__, "twin": "twin", "fixtures": []}

    for name, args in VARIANTS.items():
        d = fresh_dir(OUT, name)
        q = GPT2LMHeadModel.from_pretrained(twin, quantization_config=BitsAndBytesConfig(bnb_4bit_compute_dtype=torch.float32, **args),
                                            dtype=torch.float32, device_map="cpu")
        q.save_pretrained(d, safe_serialization=True)
        link_vocab(d)
        # Reload what was written, so the expected values come from the files themselves.
        back = GPT2LMHeadModel.from_pretrained(d, device_map="cpu")
        deq = dequantized_weights(back)
        if not deq:
            raise SystemExit(f"{name}: no bitsandbytes module after loading {d}")
        plain = GPT2LMHeadModel.from_pretrained(twin, dtype=torch.float32).eval()
        with torch.no_grad():
            for key, w in deq.items():
                module = plain.get_submodule("transformer." + key)
                module.weight.copy_(w.t())  # Conv1D keeps [in, out]
            expected = {}
            for i, ids in enumerate(inputs):
                expected[f"input_ids.{i}"] = ids[0].to(torch.int64).contiguous()
                expected[f"logits.{i}"] = plain(ids).logits[0].float().contiguous()
        for key in RECORDED:
            expected[f"dequantized.{key}"] = deq[key].contiguous()
        save_file(expected, os.path.join(d, "expected.safetensors"),
                  metadata={"bitsandbytes": bnb.__version__, "transformers": transformers.__version__})
        keys = sorted(safetensors.safe_open(os.path.join(d, "model.safetensors"), "pt").keys())
        manifest["fixtures"].append({"name": name, "quantization_config": args, "quantized_modules": sorted(deq),
                                     "files": sorted(os.listdir(d)), "tensors": keys})
        print(f"{name}: {len(deq)} quantized modules, {os.path.getsize(os.path.join(d, 'model.safetensors'))} bytes")

    # FP4 against bitsandbytes itself (the code book, the quantizer's bytes, the dequantized values).
    w = torch.randn(96, 128, generator=g) * 0.05
    w[2] = 0.0
    w[4] *= 30.0
    packed, st = F.quantize_4bit(w, blocksize=64, compress_statistics=False, quant_type="fp4")
    save_file({"fp4.code": F.get_4bit_type("fp4", device="cpu").float().contiguous(), "fp4.input": w.contiguous(),
               "fp4.packed": packed.reshape(-1).contiguous(), "fp4.absmax": st.absmax.float().contiguous(),
               "fp4.dequantized": F.dequantize_4bit(packed, st, quant_type="fp4").float().contiguous()},
              os.path.join(OUT, "bnb.safetensors"), metadata={"bitsandbytes": bnb.__version__})
    write_fuzz_seeds()
    with open(os.path.join(OUT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(p, n)) for p, _, names in os.walk(OUT) for n in names
                if not os.path.islink(os.path.join(p, n)))
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
