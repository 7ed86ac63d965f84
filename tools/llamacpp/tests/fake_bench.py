#!/usr/bin/env python3
"""Stand-in for `phi4 bench ... --json` and for bench_llamacpp.py, to test compare.py's parsing only.

    fake_bench.py bench --model F -p 512 -n 128 -t 2 -r 3 --json     # PhiKit-shaped JSON (as Sources/phi4/Bench.swift)
    fake_bench.py F -p 512 -n 128 -t 2 -r 3                          # bench_llamacpp.py-shaped JSON

FAKE_BENCH_MODE: ok (default) | noise (log lines around the JSON) | nested (PhiKit with peak RSS and load under
"memory"/"timing" and results keyed by test) | fail (exit 3) | garbage (no JSON) | slow (sleeps 30 s) |
firsttoken (PhiKit also reports first_token_seconds)
"""
import argparse
import json
import os
import sys
import time

mode = os.environ.get("FAKE_BENCH_MODE", "ok")
argv = sys.argv[1:]
phikit = bool(argv) and argv[0] == "bench"
if phikit:
    argv = argv[1:]
ap = argparse.ArgumentParser()
if phikit:
    ap.add_argument("--model", required=True)
    ap.add_argument("--json", action="store_true")
else:
    ap.add_argument("model")
ap.add_argument("-p", type=int, default=512)
ap.add_argument("-n", type=int, default=128)
ap.add_argument("-t", type=int, default=2)
ap.add_argument("-r", type=int, default=3)
a, _ = ap.parse_known_args(argv)

if mode == "fail":
    print("error: cannot open model", file=sys.stderr)
    sys.exit(3)
if mode == "garbage":
    print("pp512 12.0 t/s (not json)")
    sys.exit(0)
if mode == "slow":
    time.sleep(30)

scale = a.t  # speeds grow with threads so the table shows something different per T
if phikit:
    rows = [{"max": 16.0 * scale, "min": 14.0 * scale, "samples": [15.0 * scale] * a.r, "stddev": 0.5,
             "test": f"pp{a.p}", "tokens_per_second": 15.0 * scale},
            {"max": 3.1 * scale, "min": 2.9 * scale, "samples": [3.0 * scale] * a.r, "stddev": 0.05,
             "test": f"tg{a.n}", "tokens_per_second": 3.0 * scale}]
    obj = {"load_seconds": 1.25, "model": a.model, "peak_resident_bytes": 3 * 2 ** 30,
           "resident_anonymous_bytes": 2 ** 29, "resident_file_bytes": 2 * 2 ** 30, "results": rows, "threads": a.t}
    if mode == "nested":
        obj = {"model": a.model, "threads": a.t, "memory": {"peak_resident_bytes": 3 * 2 ** 30},
               "timing": {"load_seconds": 1.25}, "results": {r["test"]: r for r in rows}}
    if mode == "firsttoken":
        obj["first_token_seconds"] = 0.5
else:
    obj = {"engine": "llama.cpp", "model": a.model, "threads": a.t, "load_seconds": 0.8, "first_token_seconds": 1.2,
           "load_first_token_seconds": 2.0, "peak_resident_bytes": 4 * 2 ** 30,
           "results": [{"test": f"pp{a.p}", "tokens_per_second": 30.0 * scale, "tokens_per_second_stddev": 0.3},
                       {"test": f"tg{a.n}", "tokens_per_second": 5.0 * scale, "tokens_per_second_stddev": 0.02}]}
if mode == "noise":
    print("loading model...")
    print("{not json either")
print(json.dumps(obj, sort_keys=True))
if mode == "noise":
    print("done.")
