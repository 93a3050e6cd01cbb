#!/usr/bin/env python3
"""Goldens for gpt2d's logits processors and beam search, from transformers itself.

Written and run with: Python 3.11, torch 2.13.0+cpu, transformers 5.23.0 (the script warns on others).

Usage (from the repository root):
    python3 scripts/make_sampling_fixtures.py     # writes Tests/Fixtures/sampling/{processors,beam}.json

processors.json
    vocab, eos_token_ids, and "cases": each case has
      name, kind ("single" | "combo"), spec (single: one processor and its arguments;
      combo: the SamplingParameters fields), and rows: [{logits, input_ids, prompt_length, expected}]
    "single": the transformers class alone (LogitsProcessorList([cls(...)])).
    "combo": the list transformers' own GenerationMixin._get_logits_processor builds for a
      GenerationConfig (so the order is transformers'), with the OpenAI extras done in numpy:
      logit_bias added to the raw logits first; presence/frequency over the generated tokens
      (input_ids[prompt_length:]) right after RepetitionPenaltyLogitsProcessor (or first, when
      there is none): logit -= presence * (count > 0) + frequency * count.
    -inf is written as null.

beam.json
    "cases": fixture, prompt, settings (num_beams, length_penalty, early_stopping, num_return_sequences,
    max_new_tokens, eos_token_id, plus optional processors), sequences (unpadded: prompt + generated,
    EOS included when reached) and sequences_scores, from
    model.generate(..., do_sample=False, return_dict_in_generate=True, output_scores=True).
    Two EOS variants per fixture: the config's EOS (999, not reached by these random models) and a
    token the unconstrained beam search emits early (so beams finish at different lengths).
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import GenerationConfig, GPT2LMHeadModel, LogitsProcessorList
from transformers.generation import logits_process as lp

EXPECTED = {"torch": "2.13.0+cpu", "transformers": "5.23.0"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "sampling")
V = 64
EOS = [63]


def f32list(a):
    return [None if np.isneginf(x) else float(np.float32(x)) for x in np.asarray(a, dtype=np.float32)]


def make_rows(seed, n=3):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n):
        logits = np.round(rng.normal(0, 2.5, V), 3).astype(np.float32)
        # Small id range so ids and n-grams repeat; then force a repeated bigram and trigram.
        T = 14
        ids = rng.integers(0, 12, T).tolist()
        ids[8:10] = ids[2:4]
        ids[-2:] = ids[5:7]
        if r == 2:
            ids[-3:] = [7, 8, 9]
        rows.append({"logits": logits, "input_ids": ids, "prompt_length": 6 + r})
    return rows


def apply(procs, logits, ids):
    x = torch.tensor(logits[None, :], dtype=torch.float32)
    i = torch.tensor([ids], dtype=torch.long)
    return LogitsProcessorList(procs)(i, x)[0].numpy()


def openai_penalties(scores, ids, prompt_length, presence, frequency):
    out = scores.astype(np.float32).copy()
    gen = ids[prompt_length:]
    counts = np.bincount(np.asarray(gen, dtype=np.int64), minlength=V)[:V] if gen else np.zeros(V, np.int64)
    out -= np.float32(presence) * (counts > 0).astype(np.float32)
    out -= np.float32(frequency) * counts.astype(np.float32)
    return out.astype(np.float32)


SINGLE = [
    ("repetition_penalty", {"penalty": 1.3}, lambda a: lp.RepetitionPenaltyLogitsProcessor(a["penalty"])),
    ("repetition_penalty", {"penalty": 0.8}, lambda a: lp.RepetitionPenaltyLogitsProcessor(a["penalty"])),
    ("no_repeat_ngram", {"size": 1}, lambda a: lp.NoRepeatNGramLogitsProcessor(a["size"])),
    ("no_repeat_ngram", {"size": 2}, lambda a: lp.NoRepeatNGramLogitsProcessor(a["size"])),
    ("no_repeat_ngram", {"size": 3}, lambda a: lp.NoRepeatNGramLogitsProcessor(a["size"])),
    ("bad_words", {"ids": [[5], [63], [8, 9], [3, 4, 11], [7, 8, 9, 10], [40, 41]], "eos": EOS},
     lambda a: lp.NoBadWordsLogitsProcessor(a["ids"], a["eos"])),
    ("min_new_tokens", {"min": 3, "eos": [63, 10]},
     None),  # prompt length is per row; built in make_processor_cases
    ("min_new_tokens", {"min": 9, "eos": [63, 10]}, None),
    ("suppress_tokens", {"ids": [1, 2, 3, 60]}, lambda a: lp.SuppressTokensLogitsProcessor(a["ids"])),
    ("temperature", {"t": 0.7}, lambda a: lp.TemperatureLogitsWarper(a["t"])),
    ("top_k", {"k": 5}, lambda a: lp.TopKLogitsWarper(a["k"])),
    ("top_k", {"k": 1}, lambda a: lp.TopKLogitsWarper(a["k"])),
    ("top_p", {"p": 0.9}, lambda a: lp.TopPLogitsWarper(a["p"])),
    ("top_p", {"p": 0.5}, lambda a: lp.TopPLogitsWarper(a["p"])),
    ("min_p", {"p": 0.1}, lambda a: lp.MinPLogitsWarper(a["p"])),
    ("min_p", {"p": 0.3}, lambda a: lp.MinPLogitsWarper(a["p"])),
    ("typical_p", {"mass": 0.9}, lambda a: lp.TypicalLogitsWarper(a["mass"])),
    ("typical_p", {"mass": 0.5}, lambda a: lp.TypicalLogitsWarper(a["mass"])),
]

# SamplingParameters fields (Swift names) → GenerationConfig.
COMBOS = [
    {"doSample": True, "temperature": 0.7, "topK": 20, "topP": 0.9, "repetitionPenalty": 1.2},
    {"doSample": True, "temperature": 1.3, "topK": 0, "topP": 1.0, "minP": 0.05, "typicalP": 0.95,
     "noRepeatNGramSize": 2, "badWordsIDs": [[5], [8, 9]], "suppressTokens": [1, 2], "minNewTokens": 20},
    {"doSample": False, "repetitionPenalty": 1.1, "noRepeatNGramSize": 3, "badWordsIDs": [[7, 8, 9, 10], [63]],
     "minNewTokens": 20, "suppressTokens": [0]},
    {"doSample": True, "temperature": 0.9, "topK": 30, "topP": 0.95, "minP": 0.02, "typicalP": 0.9,
     "repetitionPenalty": 1.15, "presencePenalty": 0.6, "frequencyPenalty": 0.4,
     "logitBias": {"3": 4.0, "7": -100.0, "12": 1.5}, "noRepeatNGramSize": 2, "badWordsIDs": [[5]],
     "minNewTokens": 2, "suppressTokens": [60]},
    {"doSample": False, "presencePenalty": -0.5, "frequencyPenalty": 1.0, "logitBias": {"0": 2.0}},
]


def combo_reference(model, spec, row):
    gc = GenerationConfig(
        do_sample=spec.get("doSample", False), temperature=spec.get("temperature", 1.0),
        top_k=spec.get("topK", 50), top_p=spec.get("topP", 1.0), min_p=spec.get("minP"),
        typical_p=spec.get("typicalP", 1.0), repetition_penalty=spec.get("repetitionPenalty", 1.0),
        no_repeat_ngram_size=spec.get("noRepeatNGramSize", 0),
        bad_words_ids=spec.get("badWordsIDs"), min_new_tokens=spec.get("minNewTokens"),
        suppress_tokens=spec.get("suppressTokens"), eos_token_id=EOS, pad_token_id=EOS[0])
    model._prepare_special_tokens(gc, kwargs_has_attention_mask=False, device="cpu")
    procs = model._get_logits_processor(generation_config=gc, input_ids_seq_length=row["prompt_length"],
                                        encoder_input_ids=None, logits_processor=LogitsProcessorList(),
                                        device="cpu", model_kwargs={})
    ids = row["input_ids"]
    x = row["logits"].astype(np.float32).copy()
    for t, b in spec.get("logitBias", {}).items():
        x[int(t)] += np.float32(b)
    pres, freq = spec.get("presencePenalty", 0.0), spec.get("frequencyPenalty", 0.0)
    names = [type(p).__name__ for p in procs]
    insert_at = names.index("RepetitionPenaltyLogitsProcessor") + 1 if "RepetitionPenaltyLogitsProcessor" in names else 0
    for k in range(len(procs) + 1):
        if k == insert_at and (pres or freq):
            x = openai_penalties(x, ids, row["prompt_length"], pres, freq)
        if k < len(procs):
            x = apply([procs[k]], x, ids)
    return x, names


def make_processor_cases():
    model = GPT2LMHeadModel(transformers.GPT2Config(vocab_size=V, n_positions=32, n_embd=8, n_layer=1, n_head=1))
    cases = []
    for n, (name, args, build) in enumerate(SINGLE):
        rows = []
        for row in make_rows(1000 + n):
            if name == "min_new_tokens":
                proc = lp.MinNewTokensLengthLogitsProcessor(row["prompt_length"], args["min"], args["eos"])
            else:
                proc = build(args)
            out = apply([proc], row["logits"], row["input_ids"])
            rows.append({"logits": f32list(row["logits"]), "input_ids": row["input_ids"],
                         "prompt_length": row["prompt_length"], "expected": f32list(out)})
        cases.append({"name": f"{name}{args}", "kind": "single", "processor": name, "args": args, "rows": rows})
    for name, args, pres, freq in [("presence_penalty", {"penalty": 0.7}, 0.7, 0.0),
                                   ("frequency_penalty", {"penalty": 0.45}, 0.0, 0.45),
                                   ("frequency_penalty", {"penalty": -1.5}, 0.0, -1.5)]:
        rows = []
        for row in make_rows(2000 + len(cases)):
            out = openai_penalties(row["logits"], row["input_ids"], row["prompt_length"], pres, freq)
            rows.append({"logits": f32list(row["logits"]), "input_ids": row["input_ids"],
                         "prompt_length": row["prompt_length"], "expected": f32list(out)})
        cases.append({"name": f"{name}{args}", "kind": "single", "processor": name, "args": args, "rows": rows})
    # Ties at the top-k boundary survive; top-p/min-p on a distribution with equal logits.
    tie = np.zeros(V, np.float32); tie[:6] = [3.0, 2.5, 2.0, 2.0, 2.0, 1.0]; tie[6:] = -1.0
    for name, args, proc in [("top_k", {"k": 3}, lp.TopKLogitsWarper(3)), ("top_p", {"p": 0.6}, lp.TopPLogitsWarper(0.6)),
                             ("min_p", {"p": 0.6}, lp.MinPLogitsWarper(0.6)), ("typical_p", {"mass": 0.4}, lp.TypicalLogitsWarper(0.4))]:
        ids = [1, 2, 3]
        out = apply([proc], tie, ids)
        cases.append({"name": f"{name}{args} ties", "kind": "single", "processor": name, "args": args,
                      "rows": [{"logits": f32list(tie), "input_ids": ids, "prompt_length": 3, "expected": f32list(out)}]})
    rows = []
    for row in make_rows(2100):
        x = row["logits"].copy()
        x[3] += np.float32(5.0); x[7] += np.float32(-100.0)
        rows.append({"logits": f32list(row["logits"]), "input_ids": row["input_ids"],
                     "prompt_length": row["prompt_length"], "expected": f32list(x)})
    cases.append({"name": "logit_bias", "kind": "single", "processor": "logit_bias",
                  "args": {"bias": {"3": 5.0, "7": -100.0}}, "rows": rows})
    for n, spec in enumerate(COMBOS):
        rows = []
        names = None
        for row in make_rows(3000 + n):
            out, names = combo_reference(model, spec, row)
            rows.append({"logits": f32list(row["logits"]), "input_ids": row["input_ids"],
                         "prompt_length": row["prompt_length"], "expected": f32list(out)})
        cases.append({"name": f"combo{n}", "kind": "combo", "params": spec, "transformers_processors": names,
                      "rows": rows})
    return {"generator": "scripts/make_sampling_fixtures.py", "torch_version": torch.__version__,
            "transformers_version": transformers.__version__, "vocab": V, "eos_token_ids": EOS, "cases": cases}


BEAM_FIXTURES = ["tiny-hub", "tiny-attn-flags", "tiny-untied-relu"]


def beam_generate(model, prompt, s):
    kw = dict(num_beams=s["num_beams"], length_penalty=s["length_penalty"], early_stopping=s["early_stopping"],
              num_return_sequences=s["num_return_sequences"], max_new_tokens=s["max_new_tokens"],
              eos_token_id=s["eos_token_id"], pad_token_id=s["eos_token_id"], do_sample=False,
              return_dict_in_generate=True, output_scores=True)
    if isinstance(s["eos_token_id"], list):
        kw["pad_token_id"] = s["eos_token_id"][0]
    for k in ("no_repeat_ngram_size", "repetition_penalty", "min_new_tokens", "bad_words_ids"):
        if k in s:
            kw[k] = s[k]
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long), **kw)
    seqs = []
    for i in range(out.sequences.shape[0]):
        n_gen = int((out.beam_indices[i] != -1).sum())
        seqs.append(out.sequences[i, :len(prompt) + n_gen].tolist())
    return seqs, [float(x) for x in out.sequences_scores]


def make_beam_cases():
    cases = []
    for fi, name in enumerate(BEAM_FIXTURES):
        model = GPT2LMHeadModel.from_pretrained(os.path.join(ROOT, "Tests", "Fixtures", "models", name),
                                                attn_implementation="eager").eval()
        V_ = model.config.vocab_size
        g = torch.Generator().manual_seed(77 + fi)
        prompt = torch.randint(0, V_ - 1, (6,), generator=g).tolist()
        base = {"num_beams": 4, "length_penalty": 1.0, "early_stopping": False, "num_return_sequences": 1,
                "max_new_tokens": 12, "eos_token_id": model.config.eos_token_id}
        seqs, _ = beam_generate(model, prompt, base)
        # A reachable EOS: the 3rd generated token of the best unconstrained beam.
        eos_reach = seqs[0][len(prompt) + 2]
        for eos in (model.config.eos_token_id, eos_reach):
            for nb in (2, 4):
                for lpen in (0.5, 1.0, 2.0):
                    for es in (True, False, "never"):
                        for nrs in (1, 2):
                            s = dict(base, num_beams=nb, length_penalty=lpen, early_stopping=es,
                                     num_return_sequences=nrs, eos_token_id=eos)
                            seqs, scores = beam_generate(model, prompt, s)
                            cases.append({"fixture": name, "prompt": prompt, "settings": s,
                                          "sequences": seqs, "sequences_scores": scores})
        # Processors inside beam search.
        # Two EOS ids (K = 3·num_beams), a negative length penalty, and more processors in beams.
        second = seqs[0][len(prompt) + 4]
        for extra in ({"no_repeat_ngram_size": 2}, {"repetition_penalty": 1.5}, {"min_new_tokens": 4},
                      {"bad_words_ids": [[eos_reach], [seqs[0][len(prompt)], seqs[0][len(prompt) + 1]]]},
                      {"eos_token_id": [eos_reach, second]},
                      {"eos_token_id": [eos_reach, second], "early_stopping": True, "num_beams": 2, "num_return_sequences": 2},
                      {"length_penalty": -1.0, "early_stopping": "never"},
                      {"length_penalty": 0.0, "early_stopping": "never"}):
            s = dict(base, num_beams=3, num_return_sequences=3, eos_token_id=eos_reach)
            s.update(extra)
            seqs, scores = beam_generate(model, prompt, s)
            cases.append({"fixture": name, "prompt": prompt, "settings": s, "sequences": seqs,
                          "sequences_scores": scores})
    return {"generator": "scripts/make_sampling_fixtures.py", "torch_version": torch.__version__,
            "transformers_version": transformers.__version__, "cases": cases}


def main():
    for k, v in (("torch", torch.__version__), ("transformers", transformers.__version__)):
        if v != EXPECTED[k]:
            print(f"warning: {k} {v}, goldens were made with {EXPECTED[k]}", file=sys.stderr)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    procs = make_processor_cases()
    with open(os.path.join(OUT, "processors.json"), "w") as f:
        json.dump(procs, f, separators=(",", ":"))
        f.write("\n")
    beams = make_beam_cases()
    with open(os.path.join(OUT, "beam.json"), "w") as f:
        json.dump(beams, f, separators=(",", ":"))
        f.write("\n")
    def eos_list(c):
        e = c["settings"]["eos_token_id"]
        return e if isinstance(e, list) else [e]
    n_eos = sum(1 for c in beams["cases"] for s in c["sequences"] if s[-1] in eos_list(c))
    print(f"processors.json: {len(procs['cases'])} cases; beam.json: {len(beams['cases'])} cases, "
          f"{n_eos} returned sequences end in EOS")


if __name__ == "__main__":
    main()
