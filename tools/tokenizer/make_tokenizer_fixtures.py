#!/usr/bin/env python3
"""Golden fixtures for the PhiTokenizer Swift target.

Pinned dev-time versions (PyPI; never needed by Swift at build, run or test time):
    tokenizers==0.23.3  tiktoken==0.14.0  transformers==5.24.0  Jinja2==3.1.6

Run from the repository root:
    .venv/bin/python tools/tokenizer/make_tokenizer_fixtures.py \
        [--ranks ../shared/data/o200k_base.tiktoken] [--out Tests/PhiTokenizerTests/Fixtures]

What it writes into the output folder (all deterministic, seed below):
  tokenizer.json            Phi-4-mini tokenizer rebuilt from the o200k rank file (reference/tokenizer.md §4)
  tokenizer_config.json     added_tokens_decoder, bos/eos, chat_template (phi4-mini.md §6)
  encode_plain.jsonl        {"text", "ids"}: corpus lines without added-token text; ids from HF tokenizers
  encode_special.jsonl      {"text", "special_ids", "plain_ids"}: lines containing added-token text;
                            special_ids = HF with added-token matching (our parseSpecial: true),
                            plain_ids = HF on a copy of the tokenizer without added tokens (our default)
  decode.jsonl              {"ids", "text", "text_skip"}: HF decode of random id sequences
  chat.jsonl                {"messages", "add_generation_prompt", "rendered", "ids"}
  small/*.json + small/*.jsonl  small byte-level BPE tokenizers trained here, with their references
  versions.json             library versions and the regeneration command
"""
import argparse
import base64
import hashlib
import json
import os
import random
import sys

import jinja2
import jinja2.sandbox
import tiktoken
import tokenizers
from tiktoken.load import load_tiktoken_bpe
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

SEED = 20240611
RANKS_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
LLAMA3_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                  r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
FALLBACK_PATTERN = r"""\p{L}+|\p{N}|[^\s\p{L}\p{N}]+|\s+"""

# Phi-4-mini added tokens (reference/tokenizer.md §1): id, content, special, rstrip.
PHI_ADDED = [
    (199999, "<|endoftext|>", True, False),
    (200018, "<|endofprompt|>", True, False),
    (200019, "<|assistant|>", True, True),
    (200020, "<|end|>", True, True),
    (200021, "<|user|>", True, True),
    (200022, "<|system|>", True, True),
    (200023, "<|tool|>", False, True),
    (200024, "<|/tool|>", False, True),
    (200025, "<|tool_call|>", False, True),
    (200026, "<|/tool_call|>", False, True),
    (200027, "<|tool_response|>", False, True),
    (200028, "<|tag|>", False, True),
]

# phi4-mini.md §6, the logic of the published tokenizer_config chat_template.
PHI4_MINI_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and message['tools'] "
    "is not none %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + "
    "'<|/tool|>' + '<|end|>' }}{% else %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}"
)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHARS = bytes_to_unicode()


def bl(b: bytes) -> str:
    return "".join(BYTE_CHARS[x] for x in b)


def merge_for(token: bytes, rank: int, ranks: dict) -> tuple:
    """tokenizer.md §4 step 3: tiktoken BPE on the token's bytes with only ranks below its own."""
    parts = [token[i:i + 1] for i in range(len(token))]
    while True:
        best, best_i = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < rank and (best is None or r < best):
                best, best_i = r, i
        if best is None:
            break
        parts[best_i:best_i + 2] = [parts[best_i] + parts[best_i + 1]]
    assert len(parts) == 2, (token, rank, parts)
    return parts[0], parts[1]


def build_phi_tokenizer_json(ranks: dict) -> dict:
    by_rank = sorted(ranks.items(), key=lambda kv: kv[1])
    vocab = {bl(b): r for b, r in by_rank}
    merges = []
    for b, r in by_rank:
        if len(b) >= 2:
            left, right = merge_for(b, r, ranks)
            merges.append(bl(left) + " " + bl(right))
    assert len(merges) == 199742, len(merges)
    assert merges[:5] == ["Ġ Ġ", "ĠĠ ĠĠ", "i n", "e r", "Ġ t"], merges[:5]
    # HF re-derives added-token ids on load (model vocab id if the content is in it, else the next free id), so the
    # contents go into model.vocab too, as in the published files; otherwise they would load as 199998, 199999, ...
    for i, c, _, _ in PHI_ADDED:
        vocab[c] = i
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": rs,
              "normalized": False, "special": sp} for i, c, sp, rs in PHI_ADDED]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": O200K_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": merges},
    }


def phi_tokenizer_config() -> dict:
    return {
        "add_bos_token": False,
        "add_eos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {str(i): {"content": c, "lstrip": False, "normalized": False, "rstrip": rs,
                                          "single_word": False, "special": sp} for i, c, sp, rs in PHI_ADDED},
        "bos_token": "<|endoftext|>",
        "chat_template": PHI4_MINI_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|endoftext|>",
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": "<|endoftext|>",
    }


# ----------------------------------------------------------------------------------------------------------------
# Corpus


WORDS = ("the of and to in is was for that with as on by at from his her they we you it this which be are or an "
         "not have had has but were their one all there been would when who will more no if out so said what up its "
         "about into than them can only other new some could time these two may then do first any my now such like "
         "our over man me even most made after also did many before must through back years where much your way well "
         "down should because each just those people how too little state good very make world still own see men work "
         "long get here between both life being under never day same another know while last might us great old year "
         "off come since against go came right used take three tokenizer encoding decoder byte pair merge vocabulary "
         "streaming inference kernel matrix attention rotary embedding quantization benchmark swift python unicode "
         "international naïve café résumé coöperate façade jalapeño Zürich São Paulo Kraków Ærøskøbing").split()
CONTRACTIONS = ["don't", "DON'T", "Don'T", "it's", "IT'S", "It'S", "we're", "WE'RE", "We'Re", "they've", "THEY'VE",
                "I'm", "I'M", "you'll", "YOU'LL", "You'Ll", "he'd", "HE'D", "o'clock", "rock'n'roll", "it’s",
                "can't", "won't", "y'all", "'s", "'S", "''", "'re'", "Mc'Donald's", "l'été", "ÉCOLE'S", "Straße's"]
CODE = [
    "def {f}(x, y=None):\n    return [i ** 2 for i in range(x) if i % 2 == 0]  # {w}\n",
    "func {f}(_ value: Int) -> String {{\n\treturn \"\\(value)\" // {w}\n}}",
    "for (int i = 0; i < n; ++i) {{ sum += a[i] * b[i]; }} /* {w} */",
    "const {f} = async (req, res) => {{ await res.json({{ ok: true, n: {n} }}); }};",
    "fn {f}<'a>(s: &'a str) -> Option<&'a str> {{ s.split_whitespace().next() }}",
    "SELECT id, name FROM users WHERE age >= {n} AND name LIKE '%{w}%' ORDER BY id DESC;",
    "#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do echo \"$f\" | wc -l; done",
    "<div class=\"{w}\"><a href=\"https://example.com/{w}?q={n}&lang=en\">{w}</a></div>",
    "    if err != nil {{\n        return fmt.Errorf(\"{f}: %w\", err)\n    }}",
    "x := map[string]int{{\"{w}\": {n}}}\r\n\r\n",
    "\t\t\t{f}({n}, \"{w}\");\t// tabs\n",
    "public static void main(String[] args) {{ System.out.println(\"{w}\"); }}",
    "let {f} = |x: f32| -> f32 {{ x.mul_add(2.0, -1.5e-3) }};",
    "#include <stdio.h>\nint main(void) {{ printf(\"%d\\n\", {n}); return 0; }}",
    "@media (max-width: 600px) {{ .{w} {{ margin: 0 auto; }} }}",
    "matrix[{n}][j] += alpha * (x_{w} - mu) / sqrt(var + 1e-5);",
]
CJK_RANGES = [(0x4E00, 0x9FA5), (0x3041, 0x3096), (0x30A1, 0x30FA), (0xAC00, 0xD7A3)]
CJK_PUNCT = "。、「」『』（）！？：；・ー〜"
ARABIC = ["مرحبا", "بالعالم", "الذكاء", "الاصطناعي", "كتاب", "مَدْرَسَةٌ", "السَّلَامُ", "عَلَيْكُمْ", "٣٤٥", "١٢"]
HINDI = ["नमस्ते", "दुनिया", "भाषा", "कृत्रिम", "बुद्धिमत्ता", "हिन्दी", "क्षत्रिय", "१२३", "ज़िंदगी"]
OTHER_SCRIPTS = ["Привет", "МИР", "Ёлка", "Γειά σου", "ΚΌΣΜΕ", "שָׁלוֹם", "สวัสดีครับ", "ᐊᐃᓐᖓᓂ", "ǅungla", "ǈ", "ʰʲʷ",
                 "ქართული", "Հայերեն", "ሰላም", "தமிழ்", "বাংলা", "ⅫⅣ", "²³¹", "½¾", "１２３４", "ＡＢＣ", "ｶﾀｶﾅ"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "🇯🇵", "🇩🇪🇫🇷", "1️⃣", "❤️", "🧑🏿‍💻", "👩‍❤️‍💋‍👨", "🐈‍⬛", "✊🏾",
         "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "🤖", "🎉🎉🎉", "☕", "⚠️", "©️", "™"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", "\u000b", "\u000c", "\u0085", "\u00a0", "\u2028",
          "\u2029", "\u3000", "\u2003", "\u200b", "\u202f", " \n ", "\t \n", "    \n\n  ", "\u00a0\u00a0 "]
PUNCT = ["!!!", "???", "...", "---", "…", "«»", "<<>>", "/*", "*/", "//", "->", "=>", "!=", "&&", "||", "::", "#@$%^",
         "\"'`", "(((", ")))", "[]{}", "~~~", "___", "。。", "¡¿", "§¶", "•", "—", "„“", "‹›"]


def rand_cjk(rng, n):
    out = []
    for _ in range(n):
        lo, hi = rng.choice(CJK_RANGES)
        out.append(chr(rng.randint(lo, hi)))
        if rng.random() < 0.1:
            out.append(rng.choice(CJK_PUNCT))
    return "".join(out)


def rand_number(rng):
    k = rng.randrange(7)
    if k == 0:
        return str(rng.randrange(10 ** rng.randint(1, 25)))
    if k == 1:
        return f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 8)}f}"
    if k == 2:
        return f"{rng.randrange(10 ** 9):,}"
    if k == 3:
        return f"{rng.random():.3e}"
    if k == 4:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(30, 120)))
    if k == 5:
        return f"v{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}-beta.{rng.randint(1, 9)}"
    return f"+1 ({rng.randint(200, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}"


def rand_word(rng):
    w = rng.choice(WORDS)
    r = rng.random()
    if r < 0.15:
        w = w.capitalize()
    elif r < 0.2:
        w = w.upper()
    elif r < 0.23:
        w = "".join(c.upper() if rng.random() < 0.5 else c for c in w)
    return w


def prose(rng):
    parts = []
    for _ in range(rng.randint(3, 30)):
        r = rng.random()
        if r < 0.08:
            parts.append(rng.choice(CONTRACTIONS))
        elif r < 0.12:
            parts.append(rand_number(rng))
        elif r < 0.15:
            parts.append(rng.choice(PUNCT))
        else:
            parts.append(rand_word(rng))
        if rng.random() < 0.1:
            parts[-1] += rng.choice([",", ".", ";", ":", "!", "?", "'s", "’s"])
    line = " ".join(parts)
    return line[0].upper() + line[1:] + rng.choice([".", "!", "?", "", " ", "\n"])


def code(rng):
    t = rng.choice(CODE)
    return t.format(f=rand_word(rng).lower() + "_" + rand_word(rng).lower(), w=rand_word(rng), n=rng.randint(0, 10 ** 6))


def mixed(rng):
    pieces = []
    for _ in range(rng.randint(2, 14)):
        k = rng.randrange(10)
        if k == 0:
            pieces.append(rand_cjk(rng, rng.randint(1, 30)))
        elif k == 1:
            pieces.append(" ".join(rng.choice(ARABIC) for _ in range(rng.randint(1, 5))))
        elif k == 2:
            pieces.append(" ".join(rng.choice(HINDI) for _ in range(rng.randint(1, 5))))
        elif k == 3:
            pieces.append(rng.choice(OTHER_SCRIPTS))
        elif k == 4:
            pieces.append("".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4))))
        elif k == 5:
            pieces.append(rng.choice(SPACES))
        elif k == 6:
            pieces.append(rand_number(rng))
        elif k == 7:
            pieces.append(rng.choice(PUNCT))
        else:
            pieces.append(rand_word(rng))
    sep = rng.choice(["", " ", " ", "\t", "\n"])
    return sep.join(pieces)


def whitespace_line(rng):
    s = "".join(rng.choice(SPACES) + (rand_word(rng) if rng.random() < 0.5 else "") for _ in range(rng.randint(1, 10)))
    return s


def url_json(rng):
    if rng.random() < 0.5:
        return (f"https://{rand_word(rng).lower()}.example.org/path/{rng.randint(1, 9999)}/"
                f"{rand_word(rng)}?a={rand_number(rng)}&b=%E2%9C%93#frag mailto:user.{rand_word(rng)}@mail.com")
    obj = {rand_word(rng): rand_number(rng), "list": [rng.randint(-99, 99) for _ in range(rng.randint(0, 6))],
           "nested": {"ok": rng.random() < 0.5, "name": rand_word(rng), "uni": rng.choice(OTHER_SCRIPTS)}}
    return json.dumps(obj, ensure_ascii=rng.random() < 0.3, indent=rng.choice([None, 2, "\t"]))


def long_line(rng):
    k = rng.randrange(5)
    if k == 0:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(100, 3000)))
    if k == 1:
        return rng.choice(["a", "ab", "Ġ", "x", "é", "字", "😀", "-", "=", "0"]) * rng.randint(50, 2000)
    if k == 2:
        return " " * rng.randint(50, 3000) + rand_word(rng)
    if k == 3:
        return "Pneumonoultramicroscopicsilicovolcanoconiosis" * rng.randint(2, 20)
    return "".join(prose(rng) for _ in range(rng.randint(10, 40)))


def controls(rng):
    chars = ["\x00", "\x01", "\x1b", "\x7f", "\u00ad", "\u200d", "\u200c", "\ufeff", "\u0301", "\u0308", "\u20dd",
             "\ufe0f", "\U0001f3fb", "\ue000", "\U000f0000", "\U0001d400", "\U00020000", "\u0300\u0301\u0302"]
    return "".join(rng.choice(chars) + (rand_word(rng) if rng.random() < 0.5 else rng.choice(SPACES))
                   for _ in range(rng.randint(1, 8)))


HAND_LINES = [
    "", " ", "  ", "\n", "\t", "Hello world", "Hello, world!", " Hello", "hello\n\nworld", "  leading and trailing  ",
    "I'm sure they'll say it's fine, but we've seen what you'd do.", "DON'T SHOUT! IT'S LOUD, WE'RE HERE.",
    "it'S, It'S, iT's", "'s 't 're 've 'm 'll 'd", "x'sy", "a'ſ it'ſ", "ǅemal ǈubljana ǋ", "ʰello ʰELLO",
    "\u0301abc", "e\u0301 \u0301 \u0301\u0301", "Z̴̡̢̛͎̝a̵̢̛l̸g̷o̶ ̶t̸e̶x̵t̴", "naïve café", "Ünïcödé ÜNÏCÖDÉ",
    "12345678901234567890", "3.14159 2.71828 1e-10", "٣٤٥ ١٢ ۱۲۳ १२३ ０１２ ²³ ⅫⅣ ½", "1,000,000.00 $5 €10 ¥20",
    "https://www.example.com/a/b/c?x=1&y=2#z", "user@example.com", "C:\\Users\\name\\file.txt", "/usr/bin/env python3",
    "path/to/dir/\n", "a/\n", "!!\n\n", "?? /\n/", "x = y // z\r\n", "foo();\r\n\r\n  bar();",
    "\t\tindented\twith\ttabs", "\u000bvertical\u000btab", "next\u0085line", "no\u00a0break\u00a0space", "\u00a0 \u00a0",
    "line\u2028sep\u2029para", "ideographic\u3000space", "zero\u200bwidth", "   \n   \n", " \n", "\n ", "a \n b",
    "end with spaces   ", "end with newline\n", "end with tab\t", "   \t\n\r\n\u000b\u000c\u0085\u00a0\u2028end",
    "你好，世界！这是一个测试。", "日本語のテキストです。カタカナとひらがな。", "한국어 텍스트입니다.", "مرحبا بالعالم!",
    "नमस्ते दुनिया, यह एक परीक्षण है।", "Привет, мир! ПРИВЕТ.", "Γειά σου Κόσμε", "שלום עולם", "สวัสดีชาวโลก",
    "👨‍👩‍👧‍👦 family 🏳️‍🌈 flag 🇺🇸🇯🇵 keycap 1️⃣ skin 👍🏽", "😀😃😄😁", "emoji😀in😀text", "🧑🏿‍💻 writes code",
    "{\"key\": \"value\", \"n\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}", "<html><body>&amp;&lt;</body></html>",
    "```python\nprint('hi')\n```", "| col1 | col2 |\n|------|------|\n| a | b |", "- item\n- item\n  - sub",
    "!@#$%^&*()_+-=[]{};':\",./<>?`~", "....,,,,;;;;", "--->>>", "<<<---", "a--b", "word-word_word.word",
    "CamelCaseIdentifier snake_case_identifier SCREAMING_CASE kebab-case", "XMLHttpRequest iPhone macOS",
    "ALLCAPSWORD lowercaseword MixedCaseWORD", "ÀÉÎÕÜ àéîõü", "ﬁ ﬂ ﬀ", "Ⅰ Ⅱ Ⅲ", "𝐀𝐁𝐂 𝑎𝑏𝑐", "🤖🤖🤖🤖🤖🤖🤖🤖🤖🤖",
    "\x00\x01\x02\x1f\x7f", "tab\there", "a\r\nb\rc\nd", "\r\n\r\n\r\n", "  \r\n  ", "x\n\n\n\ny",
    "< |end| > <| end |> < |user| > <|not_a_token|> <| |>", "|> <| <|endoftext", "endoftext|>",
]

SPECIAL_LINES = [
    "<|user|>\nHi<|end|>", "<|user|>Hi<|end|>", "<|system|>You are helpful.<|end|><|user|>Hello<|end|><|assistant|>",
    "text <|end|> more", "text<|end|>   \n\n more", "<|endoftext|>", "<|endoftext|><|endoftext|>", "a<|endofprompt|> b",
    "<|tool|>[{\"name\": \"f\"}]<|/tool|>", "<|tool_call|>\n[{\"name\": \"get\", \"arguments\": {}}]\n<|/tool_call|>",
    "<|tool_response|> {\"ok\": true}", "<|tag|>  x", "<|end|>\t\u000b\u0085\u00a0\u3000tail", "<|end|><|end|>",
    "<|<|end|>|>", "<|end|>|>", "<|user|> \u2028 line", "  <|user|>  leading", "The user typed \"<|end|>\" literally.",
    "<|assistant|>Sure!<|end|><|endoftext|>", "<|/tool|><|tool|>", "<|end", "|end|>", "<|END|>", "<|end|>😀",
    "<|system|>\n\n\nmulti\nline<|end|>\n<|user|>\n  q<|end|>\n<|assistant|>\n",
]


def make_corpus(rng) -> list:
    lines = list(HAND_LINES)
    gens = [(prose, 500), (code, 300), (mixed, 500), (whitespace_line, 200), (url_json, 200), (long_line, 40),
            (controls, 150), (lambda r: " ".join(r.choice(CONTRACTIONS) for _ in range(r.randint(1, 8))), 120)]
    for gen, count in gens:
        for _ in range(count):
            lines.append(gen(rng))
    return lines


# ----------------------------------------------------------------------------------------------------------------


def dump_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))


def dump_jsonl(path, rows):
    # ASCII escapes: Foundation's JSONSerialization on Linux drops a raw U+FEFF at the start of a string or after an
    # escape sequence, and the corpus has many of them.
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=True, separators=(",", ":")) + "\n")


def without_added_tokens(tok_json: dict) -> Tokenizer:
    copy = dict(tok_json)
    copy["added_tokens"] = []
    return Tokenizer.from_str(json.dumps(copy))


def render_chat(messages, add_generation_prompt, eos_token="<|endoftext|>"):
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(PHI4_MINI_CHAT_TEMPLATE).render(
        messages=messages, add_generation_prompt=add_generation_prompt, eos_token=eos_token)


CHATS = [
    ([{"role": "user", "content": "Hello!"}], True),
    ([{"role": "system", "content": "Insert System Message"}, {"role": "user", "content": "Insert User Message"}], True),
    ([{"role": "system", "content": "You are a helpful assistant with some tools.",
       "tools": json.dumps([{"name": "get_weather_updates", "description": "Fetches weather updates for a city.",
                             "parameters": {"city": {"description": "City name", "type": "str", "default": "London"}}}])},
      {"role": "user", "content": "What is the weather like in Paris today?"}], True),
    ([{"role": "system", "content": "\n  Be brief.\n"}, {"role": "user", "content": "\n\n  What's 2+2?  \n"},
      {"role": "assistant", "content": " 4 "}, {"role": "user", "content": "\tAnd 3+3?"}], True),
    ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}], False),
    ([{"role": "system", "content": "sys", "tools": "  [ ]  "}, {"role": "user", "content": ""},
      {"role": "assistant", "content": "<tool output below>"},
      {"role": "tool", "content": "\n{\"temperature\": 21, \"unit\": \"C\"}"}], True),
    ([{"role": "user", "content": "   \n\t  "}, {"role": "assistant", "content": "你好 👋🏽\n"}], False),
    ([{"role": "user", "content": "\u00a0\u3000nbsp and ideographic space first"}], True),
]


def train_small(corpus, kind, rng_seed):
    """Small byte-level BPE tokenizers with the same JSON structure as the big one."""
    tok = Tokenizer(models.BPE(ignore_merges=(kind in ("llama3", "fallback"))))
    if kind == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    elif kind == "gpt2_prefix":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    elif kind == "smollm":
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    elif kind == "llama3":
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(tokenizers.Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    elif kind == "fallback":
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(tokenizers.Regex(FALLBACK_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<s>", "</s>"])
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.add_tokens([
        AddedToken("[RS]", rstrip=True, normalized=False),
        AddedToken("[LS]", lstrip=True, normalized=False),
        AddedToken("[SW]", single_word=True, normalized=False),
        AddedToken("[N]", normalized=True),
        AddedToken("[NN]", normalized=False),
        AddedToken("[NNN]", normalized=False),
    ])
    tok.add_special_tokens([AddedToken("<|im_end|>", rstrip=True, normalized=False)])
    return tok


SMALL_SPECIAL_LINES = ["a [RS]  b", "a  [LS] b", "x[SW]y", "x [SW] y", "_[SW]", "é[SW]", "[SW]", "[N] [NN] [NNN]",
                       "[NNNN]", "[NN[NN]]", "<s>hi</s>", "<s> </s>", "<|im_end|>\n\nnext", "  [LS][RS]  [LS]  ",
                       "[RS]\t[RS]", "1[SW]2", "a\u00a0[LS]\u2028[RS]\u0085z"]


def main():
    ap = argparse.ArgumentParser()
    # ../shared is the shared folder beside the repository.
    ap.add_argument("--ranks", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "o200k_base.tiktoken")))
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "Tests", "PhiTokenizerTests", "Fixtures"))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "small"), exist_ok=True)

    with open(args.ranks, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == RANKS_SHA256, "unexpected rank file"
    ranks = load_tiktoken_bpe(args.ranks, expected_hash=RANKS_SHA256)
    print(f"ranks: {len(ranks)}", file=sys.stderr)
    tok_json = build_phi_tokenizer_json(ranks)
    dump_json(os.path.join(out, "tokenizer.json"), tok_json)
    dump_json(os.path.join(out, "tokenizer_config.json"), phi_tokenizer_config())

    hf = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    for i, c, _, _ in PHI_ADDED:
        assert hf.token_to_id(c) == i, (c, hf.token_to_id(c))
    assert hf.encode("<|user|>\nHi<|end|>", add_special_tokens=False).ids == [200021, 12194, 200020]
    hf_plain = without_added_tokens(tok_json)
    enc = tiktoken.Encoding("o200k_base_local", pat_str=O200K_PATTERN, mergeable_ranks=ranks,
                            special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018})

    rng = random.Random(SEED)
    corpus = make_corpus(rng)
    added_contents = [c for _, c, _, _ in PHI_ADDED]
    for line in corpus:
        assert not any(c in line for c in added_contents), line
    rows, mismatches = [], 0
    for line in corpus:
        ids = hf.encode(line, add_special_tokens=False).ids
        assert ids == hf_plain.encode(line, add_special_tokens=False).ids
        if ids != enc.encode_ordinary(line):
            mismatches += 1
        rows.append({"text": line, "ids": ids})
    dump_jsonl(os.path.join(out, "encode_plain.jsonl"), rows)
    print(f"corpus: {len(corpus)} lines, {sum(len(l.encode()) for l in corpus)} bytes; "
          f"HF vs tiktoken encode_ordinary mismatches: {mismatches}", file=sys.stderr)

    special_rows = []
    for line in SPECIAL_LINES:
        sp = hf.encode(line, add_special_tokens=False).ids
        pl = hf_plain.encode(line, add_special_tokens=False).ids
        assert not any(i >= 199998 for i in pl)
        special_rows.append({"text": line, "special_ids": sp, "plain_ids": pl})
    assert hf.encode("<|user|>\nHi", add_special_tokens=False).ids == hf.encode("<|user|>Hi").ids
    dump_jsonl(os.path.join(out, "encode_special.jsonl"), special_rows)

    decode_rows = []
    interesting = [199998, 199999, 200000, 200010, 200017, 200018, 200019, 200020, 200023, 200024, 200025, 200028,
                   200029, 200063]
    emoji_ids = hf.encode("😀👨‍👩‍👧‍👦 字 é 🇯🇵", add_special_tokens=False).ids
    for k in range(200):
        n = rng.randint(0, 40)
        ids = []
        for _ in range(n):
            r = rng.random()
            if r < 0.15:
                ids.append(rng.choice(interesting))
            elif r < 0.4:
                ids.append(rng.randrange(256))  # single bytes: invalid UTF-8 on purpose
            elif r < 0.5:
                ids.append(rng.choice(emoji_ids))
            else:
                ids.append(rng.randrange(199998))
        decode_rows.append({"ids": ids, "text": hf.decode(ids, skip_special_tokens=False),
                            "text_skip": hf.decode(ids, skip_special_tokens=True)})
    dump_jsonl(os.path.join(out, "decode.jsonl"), decode_rows)

    chat_rows = []
    for messages, agp in CHATS:
        rendered = render_chat(messages, agp)
        ids = hf.encode(rendered, add_special_tokens=False).ids
        chat_rows.append({"messages": messages, "add_generation_prompt": agp, "rendered": rendered, "ids": ids})
    dump_jsonl(os.path.join(out, "chat.jsonl"), chat_rows)
    try:  # cross-check the jinja rendering with transformers' own apply_chat_template
        from transformers import PreTrainedTokenizerFast
        tf = PreTrainedTokenizerFast(tokenizer_file=os.path.join(out, "tokenizer.json"),
                                     eos_token="<|endoftext|>", chat_template=PHI4_MINI_CHAT_TEMPLATE)
        for row in chat_rows:
            assert tf.apply_chat_template(row["messages"], tokenize=False,
                                          add_generation_prompt=row["add_generation_prompt"]) == row["rendered"]
        print("transformers apply_chat_template agrees", file=sys.stderr)
    except Exception as e:  # pragma: no cover
        print(f"transformers cross-check skipped: {e!r}", file=sys.stderr)

    small_corpus = corpus[:1200]
    for kind in ["gpt2", "gpt2_prefix", "smollm", "llama3", "fallback"]:
        tok = train_small(small_corpus, kind, SEED)
        path = os.path.join(out, "small", f"{kind}.json")
        tok.save(path, pretty=False)
        small_rows = []
        for line in corpus[::6]:
            small_rows.append({"text": line, "ids": tok.encode(line, add_special_tokens=False).ids})
        for line in SMALL_SPECIAL_LINES:
            small_rows.append({"text": line, "special_ids": tok.encode(line, add_special_tokens=False).ids})
        vs = tok.get_vocab_size()
        for _ in range(30):
            ids = [rng.randrange(vs + 3) for _ in range(rng.randint(0, 20))]
            small_rows.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                               "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
        dump_jsonl(os.path.join(out, "small", f"{kind}.jsonl"), small_rows)

    dump_json(os.path.join(out, "versions.json"), {
        "tokenizers": tokenizers.__version__, "tiktoken": tiktoken.__version__, "jinja2": jinja2.__version__,
        "python": sys.version.split()[0], "seed": SEED, "ranks_sha256": RANKS_SHA256,
        "regenerate": ".venv/bin/python tools/tokenizer/make_tokenizer_fixtures.py",
    })
    print(f"wrote fixtures to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
