#!/usr/bin/env python3
"""Time to first token with a long shared prefix: cold, from the prefix cache in memory, and read back from the
spill directory (a benchmark script, not a test; ratios against the cold run of the same server in the same run).

    swift build -c release --product phi4
    python3 tools/server/bench_prefix_cache.py --model MODEL.gguf [--phi4 .build/release/phi4] [--prefix 2000]

Two servers, one after the other, each with 2 threads: one with the default in-memory cache, one with
`--cache-bytes 1M --cache-dir DIR` so that every finished state goes straight to disk. Each gets a cold request
(a ~--prefix-token system prompt plus a question) and then a second one sharing the system prompt; the table shows
both times to first token, the cached tokens the server reported and warm / cold. Standard library only.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vs_llama_server import stream, system_prompt  # noqa: E402
from serverproc import PhiServe  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phi4", default=".build/release/phi4")
    ap.add_argument("--model", required=True)
    ap.add_argument("--prefix", type=int, default=2000, help="approximate system-prompt tokens")
    ap.add_argument("--gen", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    system = system_prompt(args.prefix)
    rows = []
    with tempfile.TemporaryDirectory() as spill:
        for name, extra in [("memory", []), ("disk", ["--cache-bytes", "1M", "--cache-dir", spill])]:
            with PhiServe(args.phi4, args.model, "-t", str(args.threads), *extra) as s:
                cold = stream(s.port, [{"role": "system", "content": system}, {"role": "user", "content": "First question?"}], args.gen).ttft
                second = stream(s.port, [{"role": "system", "content": system}, {"role": "user", "content": "Another one?"}], args.gen)
                warm, cached = second.ttft, second.cached
                m = s.metrics()
                rows.append((name, cold, warm, cached, m.get("phikit_prefix_cache_disk_hits", 0)))
    print(f"| cache | cold TTFT s | warm TTFT s | cached tokens | disk hits | warm / cold |")
    print(f"|---|---|---|---|---|---|")
    for name, cold, warm, cached, disk in rows:
        print(f"| {name} | {cold:.2f} | {warm:.2f} | {cached} | {disk:.0f} | {warm / cold:.3f} |")


if __name__ == "__main__":
    main()
