#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus: Tests/Fixtures/fuzz/<Target>/ (a few KB per target).
Tests/Fixtures/fuzz/regressions/<Target>/ holds the inputs of crashes found (kept by hand, each one
also a Swift test); this script leaves it alone.

Sources: the request and response lines of PROTOCOL.md's examples (FuzzWire, FuzzJSON), a few texts
(FuzzTokenizer), tiny safetensors files (FuzzSafeTensors) and the committed fixtures' config.json
files (FuzzConfig), the committed shard indexes and hostile variants of them (FuzzShardIndex), small quantized-cache
headers with FuzzQuantCache's key (FuzzQuantCache).
FuzzPickle's seeds need torch: scripts/make_pickle_fuzz_seeds.py. Deterministic; standard library only. Usage: scripts/make_fuzz_corpus.py
"""
import json
import re
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "fuzz"
TARGETS = ["FuzzJSON", "FuzzWire", "FuzzTokenizer", "FuzzSafeTensors", "FuzzConfig", "FuzzShardIndex", "FuzzQuantCache"]

# Requests PROTOCOL.md has no example of, with the optional fields of each op filled in.
EXTRA_REQUESTS = [
    {"id": "adv", "op": "generate", "model": "gpt2", "tokens": [15496, 11], "max_new_tokens": 4,
     "do_sample": True, "temperature": 0.7, "top_k": 40, "top_p": 0.9, "min_p": 0.05, "typical_p": 0.95,
     "repetition_penalty": 1.1, "presence_penalty": 0.5, "frequency_penalty": -0.5, "no_repeat_ngram_size": 2,
     "min_new_tokens": 1, "seed": 7, "stop": ["\n", "."], "logprobs": True, "top_logprobs": 2,
     "logprobs_mode": "processed", "logit_bias": {"50256": -100}, "bad_words_ids": [[1, 2]],
     "suppress_tokens": [3], "ignore_eos": True, "include_stop_str_in_output": False, "num_return_sequences": 2},
    {"id": 2.5, "op": "generate", "model": "gpt2", "prompt": "x", "num_beams": 3, "num_return_sequences": 2,
     "length_penalty": 0.8, "early_stopping": "never", "session": None},
    {"id": "sc", "op": "score", "model": "gpt2", "tokens": [464, 3797], "top_logprobs": 3, "session": "s-1"},
    {"id": -1, "op": "tag", "model": "ner", "text": "a b", "aggregation_strategy": "max",
     "ignore_labels": ["O"], "max_length": 8, "stride": 2},
    {"id": 0, "op": "qa", "model": "squad", "question": "q?", "context": "c.", "top_k": 2, "doc_stride": 4,
     "max_seq_len": 16, "max_answer_len": 5, "max_question_len": 4, "handle_impossible_answer": True,
     "align_to_words": False},
    {"id": "c", "op": "classify", "model": "m", "texts": ["a", "b"], "top_k": 1, "function_to_apply": "sigmoid"},
    {"id": "e", "op": "embed", "model": "gpt2", "text": "é ü 𝄞", "pooling": "last", "normalize": False},
    {"id": "t", "op": "tokenize", "model": "gpt2", "text": "<|endoftext|> hi"},
]


def protocol_lines(arrow):
    lines = []
    for line in (ROOT / "PROTOCOL.md").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith(arrow + " {"):
            lines.append(line[2:].strip().encode())
    return lines


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def wire(requests, responses):
    # Byte 0 seeds the chunking; the rest is the stream. One file per request, one with all of them
    # (mixed \n and \r\n, a blank line), one with the responses.
    for i, line in enumerate(requests):
        write("FuzzWire", f"request-{i:02d}", bytes([i]) + line + b"\n")
    stream = b"".join(line + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(requests)) + b"\n"
    write("FuzzWire", "all-requests", bytes([7]) + stream)
    write("FuzzWire", "responses", bytes([3]) + b"\n".join(responses) + b"\n")
    write("FuzzWire", "broken", bytes([1]) + b'{"id":1,"op":"generate"\n{"id":[1],"op":2}\n\xff\xfe\n[1,2]\n')


def json_seeds(requests, responses):
    for i, line in enumerate(requests[:6] + responses[:6]):
        write("FuzzJSON", f"line-{i:02d}", line)
    write("FuzzJSON", "numbers", b"[0,-0,1e-5,-1.5E+300,9223372036854775807,-9223372036854775808,5e-324,0.1]")
    write("FuzzJSON", "strings", '{"a\\u0000b":"\\ud83d\\ude00","\\"":"\\/\\b\\f\\n\\r\\t","é":"𝄞"}'.encode())
    write("FuzzJSON", "nested", b'{"a":[[[{"b":[]}]]],"c":{},"d":[null,true,false]}')


def tokenizer_seeds():
    texts = ["Hello world", "Hello, my name is", " I live in Berlin.\n\n", "<|endoftext|>The end<|endoftext|>",
             "naïve café — 東京 🤖 𝄞", "   lots   of\tspaces\r\n", "it's we'll they're 123456 1,000.5",
             "\u0000\u0001 control \u007f", "Ġ Ċ byte-level look-alikes"]
    for i, t in enumerate(texts):
        write("FuzzTokenizer", f"text-{i:02d}", t.encode())
    write("FuzzTokenizer", "ids", struct.pack("<8H", 15496, 995, 50256, 50257, 65535, 220, 447, 247))


def safetensors_file(tensors, metadata=None):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return compact(header), data


def safetensors_seeds():
    tensors = [("wte.weight", "F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
               ("b", "F16", [3], struct.pack("<3e", 0.5, -1, 2)),
               ("c", "BF16", [1], b"\x80\x3f"),
               ("d", "I64", [1], struct.pack("<q", -3)),
               ("e", "I32", [2], struct.pack("<2i", 1, -1)),
               ("empty", "F64", [0, 4], b""),
               ("u", "U8", [], b"\x07")]
    header, data = safetensors_file(tensors, {"format": "pt"})
    # Mode byte even: the whole file; odd: header, NUL, data (the harness writes the length).
    write("FuzzSafeTensors", "whole", b"\x00" + struct.pack("<Q", len(header)) + header + data)
    write("FuzzSafeTensors", "split", b"\x01" + header + b"\x00" + data)
    header, data = safetensors_file([("x", "F64", [2], struct.pack("<2d", 1.5, -2.5))])
    write("FuzzSafeTensors", "f64", b"\x01" + header + b"\x00" + data)


def config_seeds():
    seen = set()
    for path in sorted((ROOT / "Tests" / "Fixtures").rglob("config.json")):
        data = path.read_bytes()
        if data in seen or len(data) > 4096:
            continue
        seen.add(data)
        write("FuzzConfig", "-".join(path.relative_to(ROOT / "Tests" / "Fixtures").parts[:-1]), data)
    write("FuzzConfig", "aliases", compact({"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                                            "max_position_embeddings": 32, "n_inner": None, "eos_token_id": [1, 2],
                                            "num_labels": 3, "problem_type": "regression"}))


# Tokens libFuzzer splices into inputs (-dict): names the parsers look for and boundary numbers.
NUMBERS = ["0", "-1", "1.5", "1e308", "-1e-308", "2147483648", "3000000000", "16777217", "4611686018427387904",
           "9223372036854775807", "-9223372036854775808", "9007199254740993"]
OPS = ["health", "models", "tokenize", "detokenize", "generate", "score", "session.open", "session.close",
       "session.list", "session.info", "cancel", "stats", "classify", "tag", "qa", "choose", "embed"]
CHOICES = ["never", "simple", "first", "average", "max", "none", "sigmoid", "softmax", "mean", "last", "raw",
           "processed", "result", "token", "error", "<|endoftext|>"]
CONFIG_KEYS = ["vocab_size", "n_positions", "n_ctx", "n_embd", "n_layer", "n_head", "n_inner", "hidden_size",
               "num_hidden_layers", "num_attention_heads", "max_position_embeddings", "layer_norm_epsilon",
               "activation_function", "gelu_new", "relu", "silu", "scale_attn_weights",
               "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "tie_word_embeddings", "bos_token_id",
               "eos_token_id", "pad_token_id", "id2label", "label2id", "num_labels", "architectures", "problem_type",
               "regression", "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels"]
SAFETENSORS_KEYS = ["__metadata__", "dtype", "shape", "data_offsets", "F64", "F32", "F16", "BF16", "I64", "I32",
                    "I16", "I8", "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2"]


def wire_keys():
    keys = set()
    for path in sorted((ROOT / "Sources" / "GPT2Wire").rglob("*.swift")):
        keys.update(re.findall(r'\("([a-z_]+)"', path.read_text(encoding="utf-8")))
    return sorted(keys)


def write_dict(target, words, quoted):
    entries = [f'"\\"{w}\\""' if quoted else f'"{w}"' for w in words]
    (OUT / f"{target}.dict").write_text("\n".join(entries + [f'"{n}"' for n in NUMBERS]) + "\n", encoding="utf-8")


def dictionaries():
    write_dict("FuzzWire", wire_keys() + OPS + CHOICES, quoted=True)
    write_dict("FuzzConfig", CONFIG_KEYS, quoted=True)
    write_dict("FuzzSafeTensors", SAFETENSORS_KEYS, quoted=True)
    write_dict("FuzzQuantCache", list(QUANT_KEY) + ["gpt2d.header_xxh3", "gpt2d.xxh3.", "gpt2d.pad.", "U8", "data_offsets",
                                 "__metadata__", ".q4.0", ".q4.1"], quoted=True)
    write_dict("FuzzShardIndex", ["weight_map", "metadata", "total_size", "..", "/", "model.safetensors"], quoted=True)
    write_dict("FuzzJSON", ["true", "false", "null", "\\\\u0000", "\\\\ud800", "\\\\ud83d\\\\ude00"], quoted=False)


def shard_index_seeds():
    for rel in ("models/tiny-sharded/model.safetensors.index.json",
                "pytorch/sharded-zip/pytorch_model.bin.index.json"):
        path = ROOT / "Tests" / "Fixtures" / rel
        write("FuzzShardIndex", rel.split("/")[0] + "-index", path.read_bytes())
    # What the reader must refuse: names outside the directory, wrong types, an empty map.
    for name, weight_map in [("absolute", {"wte.weight": "/etc/passwd"}),
                             ("dotdot", {"wte.weight": "a/../../model.safetensors"}),
                             ("not-a-string", {"wte.weight": 3}),
                             ("empty", {})]:
        write("FuzzShardIndex", name, compact({"metadata": {"total_size": 12}, "weight_map": weight_map}))


# FuzzQuantCache opens every input against this key (Fuzz/FuzzQuantCache/FuzzQuantCache.swift).
QUANT_KEY = {"format": "gpt2d-quantized-cache", "gpt2d.cache_format": "1", "gpt2d.weight_type": "q4",
             "gpt2d.quantizer": "Q4Matrix/1", "gpt2d.checkpoint_xxh3_128": "ab" * 16}


def quant_cache_seeds():
    """Mode 1: `header JSON` 0x00 `data`; the target pads the header and fills in the checksums."""
    zeros = "0" * 16

    def seed(name, metadata, tensors, data):
        header = {"__metadata__": dict(metadata, **{"gpt2d.header_xxh3": zeros})}
        for t, (lo, hi) in tensors:
            header[t] = {"dtype": "U8", "shape": [hi - lo], "data_offsets": [lo, hi]}
            if not t.startswith("gpt2d.pad."):
                header["__metadata__"]["gpt2d.xxh3." + t] = zeros
        write("FuzzQuantCache", name, b"\x01" + compact(header) + b"\x00" + data)

    two = [("h.0.attn.c_attn.weight.q4.0", (0, 32)), ("h.0.attn.c_attn.weight.q4.1", (32, 40))]
    seed("two-segments", QUANT_KEY, two, bytes(range(40)))
    seed("with-pad", QUANT_KEY, [two[0], ("gpt2d.pad.0", (32, 64)), ("h.0.attn.c_attn.weight.q4.1", (64, 72))], bytes(72))
    seed("stale-type", dict(QUANT_KEY, **{"gpt2d.weight_type": "int8"}), two, bytes(40))
    seed("empty", QUANT_KEY, [], b"")
    write("FuzzQuantCache", "raw", b"\x00" + b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")


def main():
    # Only the seed folders are rewritten; OUT/regressions (crash inputs kept by hand) stays.
    for target in TARGETS:
        if (OUT / target).exists():
            shutil.rmtree(OUT / target)
    requests = protocol_lines("→") + [compact(r) for r in EXTRA_REQUESTS]
    responses = protocol_lines("←")
    wire(requests, responses)
    json_seeds(requests, responses)
    tokenizer_seeds()
    safetensors_seeds()
    config_seeds()
    shard_index_seeds()
    quant_cache_seeds()
    dictionaries()
    for d in (OUT / t for t in TARGETS):
        files = list(d.iterdir())
        print(f"{d.name}: {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
