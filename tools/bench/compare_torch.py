#!/usr/bin/env python3
"""PhiKit vs PyTorch (transformers) on a full-size random Phi-4-mini, side by side in one run.

    .venv/bin/python tools/bench/make_random_phi4mini.py                 # bf16 folder (once)
    .venv/bin/python tools/bench/make_random_phi4mini.py --dtype f32     # f32 folder (once)
    swift build -c release
    .venv/bin/python tools/bench/compare_torch.py [--dtypes bf16 f32] [--prompt-tokens 512] [--new-tokens 128]
        [--rounds 1] [--models DIR] [--phi4 PATH]

For each dtype it runs `phi4 bench` (prompt processing and generation timed separately, median of
--repetitions) and tools/bench/bench_torch.py (same prompt length and token count, 2 threads), one after
the other so they never share the CPU, and prints a table of tokens/s and PhiKit/PyTorch ratios.
On a shared machine use --rounds N: the PhiKit and PyTorch runs then alternate N times per dtype, the table
shows the median of each side, and every round's figures and 1-minute load average go to stderr, so a
round disturbed by other work is visible instead of silently skewing one side.
--models is the folder holding phi4mini-random-{bf16,f32} (default: bench-models in this checkout).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtypes", nargs="+", default=["bf16", "f32"])
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--phi4", default=str(ROOT / ".build/release/phi4"))
    ap.add_argument("--rounds", type=int, default=1, help="alternate PhiKit and PyTorch this many times per dtype")
    ap.add_argument("--models", type=Path, default=ROOT / "bench-models")
    args = ap.parse_args()

    rows = []
    for dtype in args.dtypes:
        folder = args.models / f"phi4mini-random-{dtype}"
        if not folder.exists():
            sys.exit(f"{folder} is missing: run tools/bench/make_random_phi4mini.py --dtype {dtype}")
        rounds = []
        for i in range(max(1, args.rounds)):
            load_ours = os.getloadavg()[0]
            ours = run_json([args.phi4, "bench", "--model", str(folder), "-p", str(args.prompt_tokens),
                             "-n", str(args.new_tokens), "-t", str(args.threads), "-r", str(args.repetitions),
                             "--json"])
            res = {r["test"]: r["tokens_per_second"] for r in ours["results"]}
            load_torch = os.getloadavg()[0]
            torch = run_json([sys.executable, str(ROOT / "tools/bench/bench_torch.py"), str(folder), "--dtype", dtype,
                              "--threads", str(args.threads), "--prompt-tokens", str(args.prompt_tokens),
                              "--new-tokens", str(args.new_tokens)])
            r = (res[f"pp{args.prompt_tokens}"], torch["prefill_tokens_per_second"],
                 res[f"tg{args.new_tokens}"], torch["decode_tokens_per_second"], ours.get("peak_resident_bytes", 0))
            rounds.append(r)
            print(json.dumps({"dtype": dtype, "round": i, "load_before_phikit": load_ours,
                              "load_before_pytorch": load_torch, "phikit": ours, "pytorch": torch}), file=sys.stderr)
            if args.rounds > 1:
                print(f"# {dtype} round {i}: pp {r[0]:.2f} vs {r[1]:.2f} ({r[0] / r[1]:.2f}x), "
                      f"tg {r[2]:.2f} vs {r[3]:.2f} ({r[2] / r[3]:.2f}x), load {load_ours:.1f}/{load_torch:.1f}",
                      file=sys.stderr)
        med = [statistics.median(c) for c in zip(*rounds)]
        rows.append((dtype, med[0], med[1], med[2], med[3], max(r[4] for r in rounds)))

    print(f"| weights | PhiKit pp{args.prompt_tokens} | PyTorch pp{args.prompt_tokens} | ratio "
          f"| PhiKit tg{args.new_tokens} | PyTorch tg{args.new_tokens} | ratio | PhiKit peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for dtype, pp, tpp, tg, ttg, rss in rows:
        print(f"| {dtype} | {pp:.2f} | {tpp:.2f} | {pp / tpp:.2f}x | {tg:.2f} | {ttg:.2f} | {tg / ttg:.2f}x "
              f"| {rss / 2**30:.2f} GiB |")


if __name__ == "__main__":
    main()
