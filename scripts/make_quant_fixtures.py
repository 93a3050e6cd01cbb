#!/usr/bin/env python3
"""Writes Tests/Fixtures/quant/nf4-bitsandbytes.safetensors: small tensors quantized to NF4 by
bitsandbytes (its CPU build), so a Swift test can check that gpt2d's nf4 packs to the same bytes and
dequantizes to the same values.

Setup (its own virtualenv; it reuses the globally installed torch through --system-site-packages):
    python3 -m venv --system-site-packages /work/venvs/quant
    /work/venvs/quant/bin/pip install bitsandbytes      # 0.50.2 was used for the committed fixture
    /work/venvs/quant/bin/python scripts/make_quant_fixtures.py

Contents (all row-major; W is (rows 200, cols 256), float32, one 64-value block never crosses a row
because 256 is a multiple of 64, so bitsandbytes' flat blocks equal gpt2d's per-row blocks):
    input                 F32 [200, 256]  random normal × 0.02, row 3 all zeros (a zero-absmax block),
                                          row 5 × 40 (blocks of very different scale)
    single.packed         U8  [25600]     quantize_4bit(nf4, blocksize 64) bytes, two values a byte,
                                          the first of each pair in the high nibble
    single.absmax         F32 [800]       one absmax per 64-value block
    single.dequantized    F32 [200, 256]  dequantize_4bit of the above
    double.packed         U8  [25600]     the same with compress_statistics=True (double quant)
    double.qabsmax        U8  [800]       absmax − offset, quantized blockwise (256) to the dynamic map
    double.absmax2        F32 [4]         absmax of each 256-value block of (absmax − offset)
    double.offset         F32 [1]         mean of the absmax values
    double.code           F32 [256]       bitsandbytes' 8-bit dynamic map (create_dynamic_map())
    double.dequantized    F32 [200, 256]  dequantize_4bit with the double-quantized statistics
    nf4.code              F32 [16]        bitsandbytes' NF4 code book (get_4bit_type("nf4"))
The metadata records the bitsandbytes and torch versions.
"""
import os
import sys

try:
    import bitsandbytes as bnb
    import bitsandbytes.functional as F
except ImportError:  # say so plainly: the committed fixture stays as it is
    sys.exit("bitsandbytes is not installed in this interpreter; see the setup lines at the top of this script")
import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "quant", "nf4-bitsandbytes.safetensors")


def main():
    g = torch.Generator().manual_seed(11)
    w = torch.randn(200, 256, generator=g, dtype=torch.float32) * 0.02
    w[3] = 0.0
    w[5] *= 40.0
    tensors = {"input": w.clone(), "nf4.code": F.get_4bit_type("nf4", device="cpu").float()}

    q, st = F.quantize_4bit(w, blocksize=64, compress_statistics=False, quant_type="nf4")
    tensors["single.packed"] = q.reshape(-1).clone()
    tensors["single.absmax"] = st.absmax.float().clone()
    tensors["single.dequantized"] = F.dequantize_4bit(q, st, quant_type="nf4").float().clone()

    q2, st2 = F.quantize_4bit(w, blocksize=64, compress_statistics=True, quant_type="nf4")
    assert st2.nested and st2.state2.blocksize == 256
    tensors["double.packed"] = q2.reshape(-1).clone()
    tensors["double.qabsmax"] = st2.absmax.reshape(-1).clone()
    tensors["double.absmax2"] = st2.state2.absmax.float().clone()
    tensors["double.offset"] = st2.offset.reshape(1).float().clone()
    tensors["double.code"] = st2.state2.code.float().clone()
    tensors["double.dequantized"] = F.dequantize_4bit(q2, st2, quant_type="nf4").float().clone()

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT,
              metadata={"bitsandbytes": bnb.__version__, "torch": torch.__version__})
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
