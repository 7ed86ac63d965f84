#!/usr/bin/env python3
"""PhiKit vs llama.cpp on the same GGUF files: runs `phi4 bench` and bench_llamacpp.py one after the other and
prints a markdown table with the ratios PhiKit / llama.cpp.

    .venv/bin/python tools/llamacpp/compare.py bench-models/phi4mini-random-Q4_0.gguf bench-models/phi4mini-random-Q8_0.gguf
    .venv/bin/python tools/llamacpp/compare.py FILE -t 1 2 -r 3 --bandwidth-gbs 38.5 --out-json /tmp/cmp.json
    .venv/bin/python tools/llamacpp/compare.py FILE --phi4 "path/to/phi4" --phi4-args "--some-flag"

For every file and every thread count T (default 1 and 2), in this order: PhiKit
(`phi4 bench --model FILE -p P -n N -t T -r R --json`), then llama.cpp (`bench_llamacpp.py FILE -p P -n N -t T -r R`).
Each command's last JSON line on stdout is parsed; a command that fails, times out or prints no JSON gives "n/a"
cells (its stderr tail is printed) and the run goes on.

Columns
* pp / tg: median tokens/s (PhiKit results[].tokens_per_second; the spread is its "stddev"), ratio = PhiKit/llama.cpp
  (> 1: PhiKit faster).
* tg %BW: tg t/s x weight bytes per token / memory bandwidth. Weight bytes = the sum of the GGUF's tensor sizes
  (every weight is read once per generated token; the tied token_embd is read as the output matrix), the same
  nominal number for both engines. Bandwidth: --bandwidth-gbs, else measured here per thread count with a numpy
  read test (T threads each OR-reducing their own 512 MiB buffer; here ~31 GB/s with 1 thread and 36-59 GB/s
  with 2, varying over time on this VM: prefer a fixed --bandwidth-gbs when comparing runs).
* load+1st: seconds from process start of loading to the first token's logits. llama.cpp: load_first_token_seconds.
  PhiKit: load_first_token_seconds, or load_seconds + first_token_seconds, or (marked †) load_seconds alone when
  it reports nothing about the first token (today's `phi4 bench` times ModelLoader.load only).
* peak RSS: peak_resident_bytes of each process (ratio PhiKit/llama.cpp; < 1: PhiKit uses less).
Other engineers' jobs on the machine distort all of this: the script prints the 1-minute load average before each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_PHI4 = REPO / ".build" / "release" / "phi4"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------ parsing

def last_json_line(text: str):
    """The last line of `text` that parses as a JSON object (None if none does)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def _num(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def find_number(obj, *keys):
    """First numeric value for any of `keys`: top level first, then (depth-first) nested dicts/lists."""
    if isinstance(obj, dict):
        for k in keys:
            if k in obj and _num(obj[k]) is not None:
                return _num(obj[k])
        for v in obj.values():
            if isinstance(v, (dict, list)):
                r = find_number(v, *keys)
                if r is not None:
                    return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_number(v, *keys)
            if r is not None:
                return r
    return None


def result_row(obj, test: str):
    """The results[] entry whose "test" is `test` (also accepts a dict keyed by test name)."""
    res = obj.get("results") if isinstance(obj, dict) else None
    if isinstance(res, dict):
        row = res.get(test)
        return row if isinstance(row, dict) else None
    if isinstance(res, list):
        for row in res:
            if isinstance(row, dict) and row.get("test") == test:
                return row
    return None


def summarize(obj, p: int, n: int) -> dict:
    """Normalize a PhiKit or llama.cpp bench JSON object to the fields the table needs (None where absent)."""
    out = {"pp": None, "pp_sd": None, "tg": None, "tg_sd": None, "load_first": None, "load_first_kind": None,
           "load": None, "peak_rss": None}
    if not isinstance(obj, dict):
        return out
    for key, test in (("pp", f"pp{p}"), ("tg", f"tg{n}")):
        row = result_row(obj, test)
        if row is not None:
            out[key] = find_number(row, "tokens_per_second", "tps", "t/s")
            out[key + "_sd"] = find_number(row, "tokens_per_second_stddev", "stddev", "stdev")
    load = find_number(obj, "load_seconds")
    first = find_number(obj, "first_token_seconds")
    lf = find_number(obj, "load_first_token_seconds")
    out["load"] = load
    if lf is not None:
        out["load_first"], out["load_first_kind"] = lf, "load+first"
    elif load is not None and first is not None:
        out["load_first"], out["load_first_kind"] = load + first, "load+first"
    elif load is not None:
        out["load_first"], out["load_first_kind"] = load, "load only"
    out["peak_rss"] = find_number(obj, "peak_resident_bytes", "peak_rss_bytes", "max_rss_bytes")
    return out


# ------------------------------------------------------------------------------------------------ running

def run_cmd(cmd: list[str], timeout: float) -> dict:
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    t0 = time.time()
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as e:
        return {"ok": False, "error": f"not found: {e}", "seconds": 0.0, "json": None}
    except subprocess.TimeoutExpired as e:
        tail = (e.stderr or b"")[-2000:] if isinstance(e.stderr, bytes) else (e.stderr or "")[-2000:]
        return {"ok": False, "error": f"timeout after {timeout:.0f}s", "stderr_tail": str(tail), "seconds": timeout,
                "json": None}
    obj = last_json_line(cp.stdout)
    res = {"ok": cp.returncode == 0 and obj is not None, "returncode": cp.returncode, "seconds": time.time() - t0,
           "json": obj}
    if not res["ok"]:
        res["error"] = f"exit {cp.returncode}" + ("" if obj is not None else ", no JSON line on stdout")
        res["stderr_tail"] = cp.stderr[-2000:]
        log(f"  FAILED ({res['error']}); stderr tail:\n" + "\n".join("    " + l for l in cp.stderr[-2000:].splitlines()))
    else:
        log("  " + json.dumps(obj)[:400])
    return res


def gguf_weight_bytes(path: Path):
    try:
        from gguf import GGUFReader
        return int(sum(int(t.n_bytes) for t in GGUFReader(str(path)).tensors))
    except Exception as e:  # not a GGUF or unreadable: no %BW column for it
        log(f"  (no tensor sizes for {path}: {e})")
        return None


def measure_read_bandwidth(threads: int, mib: int = 512, reps: int = 5) -> float:
    """Aggregate READ bandwidth in GB/s: `threads` Python threads each OR-reduce their own `mib` MiB uint64 buffer
    (numpy releases the GIL in the reduction loop, which runs at memory speed). Best of `reps`. On this machine
    (EPYC Zen 4 VM, 2 cores) it gives ~31 GB/s with 1 thread and 36-59 GB/s with 2 (it varies over time)."""
    import numpy as np
    n = mib * (1 << 20) // 8
    bufs = [np.ones(n, dtype=np.uint64) for _ in range(threads)]  # written once: pages are resident
    best = 0.0
    for _ in range(reps):
        barrier = threading.Barrier(threads + 1)

        def work(i):
            barrier.wait()
            np.bitwise_or.reduce(bufs[i])

        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        t0 = time.perf_counter()
        barrier.wait()
        for t in ts:
            t.join()
        dt = time.perf_counter() - t0
        best = max(best, n * 8 * threads / dt / 1e9)
    return best


def warm_page_cache(path: Path) -> None:
    """Reads the file once so both engines start with it in the page cache: load times then compare the
    engines, not which one ran first after another job evicted the file."""
    try:
        with open(path, "rb", buffering=0) as f:
            while f.read(16 << 20):
                pass
    except OSError as e:
        log(f"  (could not pre-read {path}: {e})")


def loadavg() -> str:
    try:
        return os.getloadavg().__repr__()
    except OSError:
        return "?"


# ------------------------------------------------------------------------------------------------ table

def fmt(v, spec="{:.2f}"):
    return "n/a" if v is None else spec.format(v)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def render(rows: list[dict], p: int, n: int) -> str:
    L = []
    L.append(f"| model | T | pp{p} PhiKit | pp{p} llama.cpp | pp ratio | tg{n} PhiKit | tg{n} llama.cpp | tg ratio "
             f"| tg %BW PhiKit | tg %BW llama.cpp | load+1st PhiKit (s) | load+1st llama.cpp (s) | load ratio "
             f"| peak RSS PhiKit (GiB) | peak RSS llama.cpp (GiB) | RSS ratio |")
    L.append("|" + "---|" * 16)
    notes = set()
    for r in rows:
        a, b = r["phikit"], r["llamacpp"]
        bw, wb = r.get("bandwidth_gbs"), r.get("weight_bytes")

        def pct(tps):
            if tps is None or not bw or not wb:
                return None
            return 100.0 * tps * wb / (bw * 1e9)

        def tps(s, key):
            v, sd = s[key], s[key + "_sd"]
            return "n/a" if v is None else (f"{v:.2f} ± {sd:.2f}" if sd is not None else f"{v:.2f}")

        lf_a = fmt(a["load_first"])
        if a["load_first_kind"] == "load only":
            lf_a += " †"
            notes.add("† PhiKit reported load_seconds only (no first-token time), so its load ratio is optimistic.")
        gib = lambda x: None if x is None else x / 2 ** 30  # noqa: E731
        L.append("| " + " | ".join([
            r["model_name"], str(r["threads"]),
            tps(a, "pp"), tps(b, "pp"), fmt(ratio(a["pp"], b["pp"]), "{:.2f}x"),
            tps(a, "tg"), tps(b, "tg"), fmt(ratio(a["tg"], b["tg"]), "{:.2f}x"),
            fmt(pct(a["tg"]), "{:.0f}%"), fmt(pct(b["tg"]), "{:.0f}%"),
            lf_a, fmt(b["load_first"]), fmt(ratio(a["load_first"], b["load_first"]), "{:.2f}x"),
            fmt(gib(a["peak_rss"])), fmt(gib(b["peak_rss"])), fmt(ratio(a["peak_rss"], b["peak_rss"]), "{:.2f}x"),
        ]) + " |")
    bws = sorted({(r["threads"], r.get("bandwidth_gbs"), r.get("bandwidth_source")) for r in rows})
    L.append("")
    L.append("Ratios are PhiKit / llama.cpp (speed: > 1 means PhiKit faster; load and RSS: < 1 means PhiKit better). "
             "Speeds are medians ± stddev over the repetitions. %BW = tg t/s x GGUF tensor bytes / bandwidth ("
             + ", ".join(f"T={t}: {fmt(bw)} GB/s {src}" for t, bw, src in bws) + ").")
    L.extend(sorted(notes))
    return "\n".join(L)


# ------------------------------------------------------------------------------------------------ main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, help="GGUF files")
    ap.add_argument("-t", "--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("--phi4", default=str(DEFAULT_PHI4), help="PhiKit CLI (a path or a command line)")
    ap.add_argument("--phi4-args", default="", help="extra arguments for `phi4 bench`")
    ap.add_argument("--llamacpp-bench", default=f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'bench_llamacpp.py'))}",
                    help="llama.cpp bench command (default: this python + bench_llamacpp.py)")
    ap.add_argument("--llamacpp-args", default="", help="extra arguments for bench_llamacpp.py (e.g. '-fa off')")
    ap.add_argument("--skip-phikit", action="store_true")
    ap.add_argument("--skip-llamacpp", action="store_true")
    ap.add_argument("--bandwidth-gbs", type=float, help="memory bandwidth for %%BW (default: measure)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per command")
    ap.add_argument("--out-json", type=Path, help="also write every raw result here")
    args = ap.parse_args()

    phi4 = shlex.split(args.phi4)
    llb = shlex.split(args.llamacpp_bench)
    bw = {}
    for t in args.threads:
        if args.bandwidth_gbs:
            bw[t] = (args.bandwidth_gbs, "(given)")
        elif args.skip_phikit:
            v = measure_read_bandwidth(t)
            bw[t] = (v, "(numpy read test)")
            log(f"read bandwidth, {t} thread(s): {v:.1f} GB/s")
        else:
            bw[t] = (None, "(phi4 bench --bandwidth, per cell)")

    empty = summarize(None, args.p, args.n)
    rows, raw = [], []
    for model in args.models:
        wb = gguf_weight_bytes(model)
        for t in args.threads:
            common = ["-p", str(args.p), "-n", str(args.n), "-t", str(t), "-r", str(args.r)]
            row = {"model": str(model), "model_name": model.name, "threads": t, "weight_bytes": wb,
                   "bandwidth_gbs": bw[t][0], "bandwidth_source": bw[t][1], "phikit": empty, "llamacpp": empty}
            rec = {"model": str(model), "threads": t}
            if not args.skip_phikit:
                warm_page_cache(model)
                log(f"[{model.name} T={t}] PhiKit, loadavg {loadavg()}")
                # The bandwidth varies over time on a shared VM: measure it in the same cell, just before.
                measure = [] if args.bandwidth_gbs else ["--bandwidth"]
                res = run_cmd(phi4 + ["bench", "--model", str(model)] + common + ["--json"] + measure
                              + shlex.split(args.phi4_args), args.timeout)
                row["phikit"] = summarize(res["json"], args.p, args.n)
                if measure and isinstance(res.get("json"), dict) and res["json"].get("read_bandwidth_gbs"):
                    row["bandwidth_gbs"] = float(res["json"]["read_bandwidth_gbs"])
                    row["bandwidth_source"] = "(phi4 bench --bandwidth, AVX-512 read pass, same cell)"
                    log(f"  read bandwidth {row['bandwidth_gbs']:.1f} GB/s")
                rec["phikit"] = res
            if not args.skip_llamacpp:
                warm_page_cache(model)
                log(f"[{model.name} T={t}] llama.cpp, loadavg {loadavg()}")
                res = run_cmd(llb + [str(model)] + common + shlex.split(args.llamacpp_args), args.timeout)
                row["llamacpp"] = summarize(res["json"], args.p, args.n)
                rec["llamacpp"] = res
            rows.append(row)
            raw.append(rec)
    table = render(rows, args.p, args.n)
    print(table)
    if args.out_json:
        args.out_json.write_text(json.dumps({"rows": rows, "raw": raw, "table": table}, indent=1, default=str))


if __name__ == "__main__":
    main()
