#!/usr/bin/env python3
"""Mask computation time per token on the full Phi-4 vocabulary: PhiKit against llguidance and XGrammar on the
same schemas, token sequences and vocabulary, in one run.

For each case (schemas.py) the valid instance is encoded with the Phi-4 tokenizer (Tests/PhiTokenizerTests/
Fixtures, 200,064 ids as the model's vocabulary), and at every prefix each engine computes the allowed-token
bitmask, then consumes the next token. Reported: median and p99 microseconds per mask over all prefixes of all
cases, per-case medians, and preprocessing time per schema (compile, including any per-state mask tables).
Single-threaded on every side. PhiKit's side runs `phi4 constraint-bench` (release build).

    python3 -m venv .venv && .venv/bin/pip install llguidance==1.9.1 xgrammar==0.2.9 transformers tokenizers
    swift build -c release
    .venv/bin/python tools/constraint/bench.py [--phi4 .build/release/phi4] [--json out.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from schemas import CASES  # noqa: E402

MODEL_VOCAB = 200064


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


def run_llguidance(hf_tok, cases, repeats):
    import llguidance
    import llguidance.hf
    from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask
    lt = llguidance.hf.from_tokenizer(hf_tok, n_vocab=MODEL_VOCAB)
    llguidance.LLMatcher(lt, llguidance.LLMatcher.grammar_from_json_schema('{"type":"integer"}'))  # warm-up
    out = []
    for c in cases:
        t0 = time.perf_counter()
        grm = llguidance.LLMatcher.grammar_from_json_schema(c["schema_text"],
                                                            defaults={"whitespace_flexible": False,
                                                                      "item_separator": ", ", "key_separator": ": "})
        m = llguidance.LLMatcher(lt, grm)
        pre = (time.perf_counter() - t0) * 1e3
        if m.is_error():
            out.append({"error": m.get_error()}); continue
        bm = allocate_token_bitmask(1, lt.vocab_size)
        times, rejected = [], None
        for i, tok in enumerate(c["tokens"]):
            best = float("inf")
            for _ in range(repeats):
                m2 = m.deep_copy()
                s = time.perf_counter()
                fill_next_token_bitmask(m2, bm, 0)
                best = min(best, (time.perf_counter() - s) * 1e6)
            times.append(best)
            fill_next_token_bitmask(m, bm, 0)
            if not m.consume_token(tok):
                rejected = i; break
        out.append({"preprocess_ms": pre, "mask_us": times, "rejected_at": rejected})
    return out


def run_xgrammar(hf_tok, cases, repeats):
    import torch
    import xgrammar as xgr
    info = xgr.TokenizerInfo.from_huggingface(hf_tok, vocab_size=MODEL_VOCAB)
    out = []
    for c in cases:
        compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
        t0 = time.perf_counter()
        try:
            cg = compiler.compile_json_schema(c["schema_text"], any_whitespace=False, strict_mode=True)
        except Exception as e:  # unsupported by XGrammar
            out.append({"error": str(e)}); continue
        pre = (time.perf_counter() - t0) * 1e3
        m = xgr.GrammarMatcher(cg)
        bm = xgr.allocate_token_bitmask(1, info.vocab_size)
        times, rejected = [], None
        for i, tok in enumerate(c["tokens"]):
            best = float("inf")
            for _ in range(repeats):
                s = time.perf_counter()
                m.fill_next_token_bitmask(bm)
                best = min(best, (time.perf_counter() - s) * 1e6)
            times.append(best)
            if not m.accept_token(tok):
                rejected = i; break
        out.append({"preprocess_ms": pre, "mask_us": times, "rejected_at": rejected})
    return out


def run_phikit(phi4, tok_dir, cases, repeats):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for c in cases:
            f.write(json.dumps({"name": c["name"], "kind": "json_schema", "value": c["schema_text"],
                                "tokens": c["tokens"]}) + "\n")
        path = f.name
    try:
        res = subprocess.run([phi4, "constraint-bench", "--tokenizer", tok_dir, "--cases", path,
                              "--repeats", str(repeats)], capture_output=True, text=True, check=True)
    finally:
        os.unlink(path)
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    header = lines[0]
    return header, lines[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--phi4", default=os.path.join(REPO, ".build", "release", "phi4"))
    ap.add_argument("--tokenizer", default=os.path.join(REPO, "Tests", "PhiTokenizerTests", "Fixtures"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", help="write all figures here")
    args = ap.parse_args()

    from transformers import AutoTokenizer
    hf_tok = AutoTokenizer.from_pretrained(args.tokenizer)
    cases = []
    for name, schema, instance in CASES:
        text = json.dumps(instance, ensure_ascii=False)  # ", " and ": " separators: one-line JSON
        cases.append({"name": name, "schema_text": json.dumps(schema), "text": text,
                      "tokens": hf_tok.encode(text, add_special_tokens=False)})
    cases.append({"name": "json_object (any object)", "schema_text": json.dumps({"type": "object"}),
                  "text": json.dumps(CASES[4][2]), "tokens": hf_tok.encode(json.dumps(CASES[4][2]), add_special_tokens=False)})

    header, phikit = run_phikit(args.phi4, args.tokenizer, cases, args.repeats)
    llg = run_llguidance(hf_tok, cases, args.repeats)
    xg = run_xgrammar(hf_tok, cases, args.repeats)

    engines = {"PhiKit": phikit, "llguidance": llg, "XGrammar": xg}
    pooled = {k: [] for k in engines}
    rows = []
    for i, c in enumerate(cases):
        row = {"name": c["name"], "tokens": len(c["tokens"])}
        for k, res in engines.items():
            r = res[i]
            if r.get("error") or r.get("rejected_at") is not None:
                row[k] = {"error": r.get("error") or f"rejected token {r.get('rejected_at')}"}
                continue
            pooled[k] += r["mask_us"]
            row[k] = {"median_us": statistics.median(r["mask_us"]), "p99_us": pct(r["mask_us"], 99),
                      "preprocess_ms": r["preprocess_ms"]}
        rows.append(row)

    def cell(r, k, f):
        v = r.get(k, {})
        return "err" if "error" in v else f(v)

    print(f"Phi-4 vocabulary: {MODEL_VOCAB} ids; {len(cases)} schemas; {sum(len(c['tokens']) for c in cases)} masks per engine;"
          f" PhiKit vocabulary trie built once in {header['trie_seconds'] * 1e3:.0f} ms")
    print()
    print("| schema | tokens | PhiKit median µs | llguidance median µs | XGrammar median µs | PhiKit p99 µs | PhiKit prep ms | llguidance prep ms | XGrammar prep ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['tokens']} | "
              + " | ".join(cell(r, k, lambda v: f"{v['median_us']:.1f}") for k in engines) + " | "
              + cell(r, "PhiKit", lambda v: f"{v['p99_us']:.0f}") + " | "
              + " | ".join(cell(r, k, lambda v: f"{v['preprocess_ms']:.1f}") for k in engines) + " |")
    print()
    print("| engine | masks | median µs/token | p99 µs/token | max µs | median preprocessing ms | ratio of median to PhiKit | ratio of p99 to PhiKit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base_med, base_p99 = statistics.median(pooled["PhiKit"]), pct(pooled["PhiKit"], 99)
    summary = {}
    for k in engines:
        xs = pooled[k]
        if not xs:
            continue
        preps = [r[k]["preprocess_ms"] for r in rows if "preprocess_ms" in r.get(k, {})]
        med, p99 = statistics.median(xs), pct(xs, 99)
        summary[k] = {"masks": len(xs), "median_us": med, "p99_us": p99, "max_us": max(xs),
                      "median_preprocess_ms": statistics.median(preps)}
        print(f"| {k} | {len(xs)} | {med:.1f} | {p99:.0f} | {max(xs):.0f} | {statistics.median(preps):.1f} | "
              f"{med / base_med:.2f}× | {p99 / base_p99:.2f}× |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
