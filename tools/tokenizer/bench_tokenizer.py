#!/usr/bin/env python3
"""Encoding speed: tiktoken o200k_base encode_ordinary (one thread) vs PhiTokenizer (Swift, release build).

Pinned dev-time versions: tiktoken==0.14.0 tokenizers==0.23.3 (see make_tokenizer_fixtures.py).
    .venv/bin/python tools/tokenizer/bench_tokenizer.py [--mb 4] [--swift-bench PATH]

The Swift figure comes from the `tokbench` executable (source: tools/tokenizer/SwiftBench/main.swift), built in an
isolated package (release, -Ounchecked -wmo like the main package) by
    tools/tokenizer/build_swift_bench.sh            # prints /tmp/tokpkg/.build/release/tokbench
Both sides encode the same text: the fixture corpus (encode_plain.jsonl) joined by newlines and repeated to --mb.
"""
import argparse
import json
import os
import subprocess
import time

import tiktoken
from tiktoken.load import load_tiktoken_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "PhiTokenizerTests", "Fixtures"))
O200K = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=5)
    # ../shared is the shared folder beside the repository.
    ap.add_argument("--ranks", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "o200k_base.tiktoken")))
    ap.add_argument("--swift-bench", default="/tmp/tokpkg/.build/release/tokbench")
    args = ap.parse_args()

    import importlib.util
    spec = importlib.util.spec_from_file_location("fx", os.path.join(HERE, "make_tokenizer_fixtures.py"))
    fx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fx)
    enc = tiktoken.Encoding("o200k_base_local", pat_str=fx.O200K_PATTERN,
                            mergeable_ranks=load_tiktoken_bpe(args.ranks), special_tokens={})
    with open(os.path.join(FIXTURES, "encode_plain.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(l)["text"] for l in f]
    corpus = "\n".join(lines)
    text = corpus
    while len(text.encode()) < args.mb * 1e6:
        text += "\n" + corpus
    nbytes = len(text.encode())
    best, ntok = float("inf"), 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ntok = len(enc.encode_ordinary(text))
        best = min(best, time.perf_counter() - t0)
    t0 = time.perf_counter()
    for line in lines:
        enc.encode_ordinary(line)
    per_line = sum(len(l.encode()) for l in lines) / 1e6 / (time.perf_counter() - t0)
    print(f"tiktoken {tiktoken.__version__}: {nbytes / 1e6:.2f} MB, {ntok} tokens; best of {args.repeats}: {best:.3f} s = "
          f"{nbytes / 1e6 / best:.2f} MB/s, {ntok / 1e6 / best:.2f} M tokens/s; per-line: {per_line:.2f} MB/s")
    if os.path.exists(args.swift_bench):
        out = subprocess.run([args.swift_bench, FIXTURES, str(args.mb), str(args.repeats)],
                             capture_output=True, text=True, check=True)
        print(out.stdout.strip())
    else:
        print(f"(Swift benchmark not found at {args.swift_bench}; build it with swift build -c release)")


if __name__ == "__main__":
    main()
