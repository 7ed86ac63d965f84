#!/usr/bin/env python3
"""Golden fixtures for PhiTokenizer's SentencePiece-style tokenizers (Phi-3 / Phi-3.5 / Llama-2 layout).

Pinned dev-time versions (PyPI; never needed by Swift at build, run or test time):
    tokenizers==0.23.3  sentencepiece==0.2.3  Jinja2==3.1.6  (+ the corpus generator of make_tokenizer_fixtures.py)

Run from the repository root (a venv in the ignored .venv/):
    python3 -m venv .venv && .venv/bin/pip install tokenizers==0.23.3 sentencepiece==0.2.3 Jinja2==3.1.6 tiktoken==0.14.0
    .venv/bin/python tools/tokenizer/make_spm_fixtures.py [--out Tests/PhiTokenizerTests/Fixtures/spm]

What it does (deterministic, seed below):
  1. trains a small SentencePiece BPE model (byte_fallback, identity normalization, dummy prefix, digits split,
     whitespace-only pieces, as Llama-2 / Phi-3 were trained) on the shared corpus;
  2. writes it as an HF tokenizer.json in the exact layout of Phi-3-mini-4k-instruct's file (normalizer
     Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer, BPE with byte_fallback + fuse_unk, decoder Replace /
     ByteFallback / Fuse / Strip, Phi-3's added tokens and flags), merges derived as transformers' converter does;
     and two variants: Metaspace pre-tokenizer (prepend_scheme "first", no normalizer: newer Llama/Mistral
     conversions) and Metaspace(split, "always") with a Metaspace decoder;
  3. references from HF `tokenizers` for each: encode (plain + with added tokens) and decode (random id runs
     with byte-fallback tokens and added tokens, with and without skip_special_tokens);
  4. the same model as a GGUF vocabulary (tokens, scores, token types, as llama.cpp's converter writes them) in
     gguf_vocab.json, with reference ids from sentencepiece itself (llama.cpp's SPM tokenizer is SentencePiece
     BPE by scores: highest score first, leftmost on ties, unknown characters as <0xXX> bytes).
"""
import argparse
import importlib.util
import json
import os
import random
import sys
import tempfile

import sentencepiece as spm
import tokenizers
from tokenizers import Tokenizer

SEED = 20261204
HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB_SIZE = 3000

# Phi-3-mini-4k-instruct added tokens (ids relative to the end of the SentencePiece vocabulary) and their flags:
# (offset, content, rstrip). All are special and not normalized.
PHI3_ADDED = [
    (0, "<|endoftext|>", False), (1, "<|assistant|>", True), (2, "<|placeholder1|>", True),
    (3, "<|placeholder2|>", True), (4, "<|placeholder3|>", True), (5, "<|placeholder4|>", True),
    (6, "<|system|>", True), (7, "<|end|>", True), (8, "<|placeholder5|>", True), (9, "<|placeholder6|>", True),
    (10, "<|user|>", True),
]

HAND_LINES = [
    "", " ", "  ", "   ", "\n", "\n\n", " \n ", "\t", "Hello world", " Hello world", "  Hello  world  ",
    "Hello\nworld", "Hello\n\n\nworld\n", "line one\r\nline two", "trailing space ", "▁already▁marked",
    "▁", " ▁ ", "naïve café Zürich", "你好，世界！", "日本語のテキスト", "한국어", "Привет, мир!", "مرحبا",
    "😀", "👨‍👩‍👧‍👦 family", "🇯🇵🇺🇸", "e\u0301", "\u00a0nbsp\u3000ideo", "\x00\x01\x1f\x7f", "\ufeffbom",
    "tabs\tand\tspaces  mixed\t \t", "1234567890", "3.14159", "x = y + 1;", "<s>", "</s>", "<unk>",
    "<|end|>", "<0x41>", "\U0001F9D1\U0001F3FF\u200d\U0001F4BB", "ǅ ǈ ǋ", "\U000F0000\ue000",
]

SPECIAL_LINES = [
    "<|user|>\nHello<|end|>\n<|assistant|>\n", "<|system|>You are helpful.<|end|><|user|>Hi<|end|><|assistant|>",
    "<s>Hello</s>", "<s> Hello</s>  more", "text <|end|>   \n\n more", "<|endoftext|> x", "a<|endoftext|>b",
    "<|user|>   <|end|>", "<|placeholder1|>\t\ttab", "<unk>x<unk>", "  <|user|>  lead", "<|end|><|end|>",
    "<|user|>\n😀 emoji<|end|>", "<|<|end|>|>", "end<|end|>",
]


# Published chat templates (tokenizer_config.json `chat_template`): Phi-3-mini-4k-instruct (July 2024 update) and
# Phi-3.5-mini-instruct.
PHI3_TEMPLATE = (
    r"{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + "
    r"'<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    r"{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}"
    r"{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}")
PHI35_TEMPLATE = (
    r"{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\n' + "
    r"message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + "
    r"'<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + "
    r"'<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}"
    r"{{ eos_token }}{% endif %}")

CHATS = [
    ([{"role": "user", "content": "Hello!"}], True),
    ([{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What is 2+2?"}], True),
    ([{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! 😀"},
      {"role": "user", "content": "  indented\n\nlines  "}], True),
    ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": " Hello there. "}], False),
    ([{"role": "user", "content": "\t\n"}, {"role": "tool", "content": "ignored role"},
      {"role": "assistant", "content": "你好 ▁x"}], True),
    ([{"role": "user", "content": "naïve café \u00a0nbsp"}], False),
]


def load_corpus_module():
    spec = importlib.util.spec_from_file_location("fx", os.path.join(HERE, "make_tokenizer_fixtures.py"))
    fx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fx)
    return fx


def train_sp(lines, workdir):
    text_path = os.path.join(workdir, "train.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        for line in lines:
            line = line.replace("\n", " ").replace("\r", " ").strip()
            if line:
                f.write(line + "\n")
    prefix = os.path.join(workdir, "spm")
    spm.SentencePieceTrainer.train(
        input=text_path, model_prefix=prefix, model_type="bpe", vocab_size=VOCAB_SIZE, byte_fallback=True,
        character_coverage=0.98, normalization_rule_name="identity", add_dummy_prefix=True,
        remove_extra_whitespaces=False, split_digits=True, allow_whitespace_only_pieces=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, seed_sentencepiece_size=100000,
        minloglevel=2, max_sentence_length=100000)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def merges_from(sp):
    """transformers' SentencePieceExtractor: every split of every piece into two pieces, ordered by the piece's
    score (best first), then by the ids of the two halves."""
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(sp.get_piece_size())}
    merges = []
    for piece, score in scores.items():
        local = []
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                local.append((left, right, score))
        local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: m[2], reverse=True)
    return [[a, b] for a, b, _ in merges]


def base_json(sp, variant):
    n = sp.get_piece_size()
    vocab = {sp.id_to_piece(i): i for i in range(n)}
    added = [{"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False,
              "rstrip": sp.id_to_piece(i) == "</s>", "normalized": False, "special": True} for i in range(3)]
    for off, content, rstrip in PHI3_ADDED:
        added.append({"id": n + off, "content": content, "single_word": False, "lstrip": False, "rstrip": rstrip,
                      "normalized": False, "special": True})
    replace_space = {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}
    spm_decoder = {"type": "Sequence", "decoders": [replace_space, {"type": "ByteFallback"}, {"type": "Fuse"},
                                                    {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None, "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": spm_decoder,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges_from(sp)},
    }
    if variant == "phi3":
        tok["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    elif variant == "metaspace":
        tok["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    elif variant == "metaspace_split":
        tok["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
        tok["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
            {"type": "ByteFallback"}, {"type": "Fuse"}]}
    else:
        raise ValueError(variant)
    return tok


def without_added(tok_json):
    copy = dict(tok_json)
    copy["added_tokens"] = []  # PhiTokenizer's default (parseSpecial: false) never matches added tokens
    return Tokenizer.from_str(json.dumps(copy))


def dump_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))


def dump_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=True, separators=(",", ":")) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "Tests", "PhiTokenizerTests", "Fixtures", "spm"))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    fx = load_corpus_module()
    rng = random.Random(SEED)
    full = fx.make_corpus(random.Random(fx.SEED))
    train_lines = full
    corpus = HAND_LINES + rng.sample(full, 700)

    with tempfile.TemporaryDirectory() as tmp:
        sp = train_sp(train_lines, tmp)
    n = sp.get_piece_size()
    byte_pieces = sum(1 for i in range(n) if sp.is_byte(i))
    assert byte_pieces == 256, byte_pieces
    print(f"sentencepiece: {n} pieces", file=sys.stderr)

    for variant in ["phi3", "metaspace", "metaspace_split"]:
        tok_json = base_json(sp, variant)
        dump_json(os.path.join(out, f"{variant}.json"), tok_json)
        hf = Tokenizer.from_file(os.path.join(out, f"{variant}.json"))
        plain = without_added(tok_json)
        rows = []
        for line in corpus:
            rows.append({"text": line, "ids": plain.encode(line, add_special_tokens=False).ids})
        for line in SPECIAL_LINES:
            rows.append({"text": line, "ids": plain.encode(line, add_special_tokens=False).ids,
                         "special_ids": hf.encode(line, add_special_tokens=False).ids})
        dump_jsonl(os.path.join(out, f"{variant}_encode.jsonl"), rows)

        drng = random.Random(SEED + 1)
        byte_ids = [i for i in range(n) if sp.is_byte(i)]
        emoji = plain.encode("😀 字 é \U000F0000 ▁", add_special_tokens=False).ids
        specials = [0, 1, 2] + [n + off for off, _, _ in PHI3_ADDED]
        drows = []
        for k in range(250):
            ids = []
            for _ in range(drng.randint(0, 30)):
                r = drng.random()
                if r < 0.12:
                    ids.append(drng.choice(specials))
                elif r < 0.35:
                    ids.append(drng.choice(byte_ids))
                elif r < 0.45:
                    ids.append(drng.choice(emoji))
                else:
                    ids.append(drng.randrange(n))
            drows.append({"ids": ids, "text": hf.decode(ids, skip_special_tokens=False),
                          "text_skip": hf.decode(ids, skip_special_tokens=True)})
        dump_jsonl(os.path.join(out, f"{variant}_decode.jsonl"), drows)
        agree = sum(1 for r in rows[:len(corpus)] if r["ids"] == sp.encode(r["text"])) if variant == "phi3" else -1
        print(f"{variant}: {len(rows)} encode rows, {len(drows)} decode rows; HF ids == sentencepiece ids on "
              f"{agree}/{len(corpus)} lines", file=sys.stderr)

    # GGUF vocabulary as llama.cpp's converter writes it (token types: 1 normal, 2 unknown, 3 control, 6 byte).
    tokens, scores, types = [], [], []
    for i in range(n):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i)
                     else 5 if sp.is_unused(i) else 1)
    rows = [{"text": line, "ids": sp.encode(line)} for line in corpus]
    # ASCII escapes: Foundation's JSONSerialization on Linux drops a raw U+FEFF at the start of a string.
    dump_jsonl(os.path.join(out, "gguf_vocab.json"), [{"tokens": tokens, "scores": scores, "token_type": types,
                                                     "add_space_prefix": True, "bos_token_id": 1, "eos_token_id": 2,
                                                     "unknown_token_id": 0}])
    dump_jsonl(os.path.join(out, "gguf_encode.jsonl"), rows)
    import jinja2.sandbox
    hf = Tokenizer.from_file(os.path.join(out, "phi3.json"))
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    chat_rows = []
    for name, template in [("phi3", PHI3_TEMPLATE), ("phi3.5", PHI35_TEMPLATE)]:
        for messages, agp in CHATS:
            rendered = env.from_string(template).render(messages=messages, add_generation_prompt=agp,
                                                        eos_token="<|endoftext|>")
            chat_rows.append({"template": name, "messages": messages, "add_generation_prompt": agp,
                              "rendered": rendered, "ids": hf.encode(rendered, add_special_tokens=False).ids})
    dump_jsonl(os.path.join(out, "chat.jsonl"), chat_rows)
    with open(os.path.join(out, "chat_templates.json"), "w", encoding="utf-8") as f:
        json.dump({"phi3": PHI3_TEMPLATE, "phi3.5": PHI35_TEMPLATE}, f, ensure_ascii=True)

    # llama.cpp's "default" byte-level pre-tokenizer (GGUF files without tokenizer.ggml.pre): its four regexes in
    # turn, matches and gaps kept, as HF Split(Isolated) steps. (GPT-2's regex as HF's ByteLevel uses it.)
    from tokenizers import Regex, pre_tokenizers
    gpt2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    default_pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(p), behavior="isolated", invert=False)
        for p in [r"[\p{P}\$\+<=>\^~\|]+", gpt2, r"\p{N}+", "[0-9][0-9][0-9]"]])
    pre_rows = [{"text": line, "pieces": [p for p, _ in default_pre.pre_tokenize_str(line)]}
                for line in corpus + ["Hello, world!!! 1234567 +-<=>^~| $5 ... ¿¡ «»", "a1b22c333d4444 ٣٤٥٦"]]
    dump_jsonl(os.path.join(out, "default_pre.jsonl"), pre_rows)
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump({"tokenizers": tokenizers.__version__, "sentencepiece": spm.__version__, "seed": SEED,
                   "vocab_size": VOCAB_SIZE, "python": sys.version.split()[0],
                   "regenerate": ".venv/bin/python tools/tokenizer/make_spm_fixtures.py"}, f)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
