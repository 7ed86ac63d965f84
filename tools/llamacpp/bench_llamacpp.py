#!/usr/bin/env python3
"""llama-bench-like prompt-processing / generation benchmark of a GGUF with llama.cpp (llama-cpp-python low-level API).

    .venv/bin/python tools/llamacpp/bench_llamacpp.py bench-models/phi4mini-random-Q4_0.gguf -p 512 -n 128 -t 2 -r 3

Prints ONE JSON line on stdout (progress goes to stderr). Shape (the same keys as `phi4 bench --json` where they
overlap, so tools/llamacpp/compare.py can read both):

  {"engine": "llama.cpp", "llama_cpp_python": "0.3.36", "model": PATH, "model_bytes": ..., "n_params": ...,
   "threads": T, "n_batch": B, "n_ubatch": U, "n_ctx": C, "flash_attn": "auto", "mmap": true, "repetitions": R,
   "load_seconds": model load + context creation,
   "first_token_seconds": first 1-token llama_decode on the fresh context (incl. first touch of mmapped weights),
   "load_first_token_seconds": the sum of the two,
   "results": [{"test": "pp512", "n_prompt": 512, "n_gen": 0, "tokens_per_second": MEDIAN t/s,
                "tokens_per_second_mean": ..., "tokens_per_second_stddev": ..., "samples_tokens_per_second": [...],
                "samples_seconds": [...], "samples_foreign_cpu": [...]},
               {"test": "tg128", "n_prompt": 0, "n_gen": 128, ...}],
   "rss_before_load_bytes": ..., "peak_resident_bytes": ru_maxrss of this process (bytes), "system_info": "..."}

Method (as llama-bench): random token ids in [0, n_vocab); each repetition of ppP clears the KV cache and decodes the
P tokens in ONE llama_decode call (n_batch = n_ubatch = max(P, 512) unless given), only the last position producing
logits; each repetition of tgN clears the KV cache and runs N llama_decode calls of one token each (positions 0..N-1,
logits every step). One warm-up first (a full ppP and a 1-token tg, not timed), like llama-bench. llama_synchronize
after every decode. Statistic: median over repetitions, plus mean and sample stddev of the t/s samples. The model is
mmapped (default; --no-mmap to read it into memory). Page-cache state is NOT controlled: a file that was read
recently loads "warm". samples_foreign_cpu: per repetition, the share of the machine's CPU time used by OTHER
processes (from /proc/stat minus this process); above ~0.05 the sample is disturbed (OpenMP spin-waits make llama.cpp
very sensitive to a busy core).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llcpp  # noqa: E402
import llama_cpp.llama_cpp as C  # noqa: E402


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def rss_now() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def machine_busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine so far (/proc/stat), to spot other processes during a run."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class Interference:
    """Fraction of the machine's CPU used by OTHER processes during a timed region (0 = quiet machine)."""

    def __enter__(self):
        self.t, self.m, self.o = time.perf_counter(), machine_busy_seconds(), own_cpu_seconds()
        return self

    def __exit__(self, *exc):
        dt = time.perf_counter() - self.t
        other = (machine_busy_seconds() - self.m) - (own_cpu_seconds() - self.o)
        self.fraction = max(0.0, other) / (dt * (os.cpu_count() or 1)) if dt > 0 else float("nan")
        return False


def stats(tps: list[float], secs: list[float], foreign: list[float]) -> dict:
    return {
        "tokens_per_second": statistics.median(tps),
        "tokens_per_second_mean": statistics.fmean(tps),
        "tokens_per_second_stddev": statistics.stdev(tps) if len(tps) > 1 else 0.0,
        "samples_tokens_per_second": [round(x, 4) for x in tps],
        "samples_seconds": [round(x, 4) for x in secs],
        "samples_foreign_cpu": [round(x, 3) for x in foreign],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("-p", "--n-prompt", type=int, default=512)
    ap.add_argument("-n", "--n-gen", type=int, default=128)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-r", "--repetitions", type=int, default=3)
    ap.add_argument("-b", "--batch-size", type=int, default=0, help="n_batch (default max(p, 512))")
    ap.add_argument("-ub", "--ubatch-size", type=int, default=0, help="n_ubatch (default = n_batch)")
    ap.add_argument("-fa", "--flash-attn", choices=["auto", "on", "off"], default="auto",
                    help="llama.cpp flash-attention mode (default auto = the library default)")
    ap.add_argument("--no-mmap", action="store_true")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--verbose", action="store_true", help="keep llama.cpp's own log output")
    args = ap.parse_args()

    if not args.model.is_file():
        raise SystemExit(f"no such file: {args.model}")
    if not args.verbose:
        llcpp.quiet_logs()
    n_batch = args.batch_size or max(args.n_prompt, 512)
    n_ubatch = args.ubatch_size or n_batch
    n_ctx = max(args.n_prompt, 1) + max(args.n_gen, 1)
    rng = np.random.default_rng(args.seed)

    llcpp.backend_init()
    rss0 = rss_now()

    # ---- load + first token
    t0 = time.perf_counter()
    model = llcpp.load_model(args.model, use_mmap=not args.no_mmap)
    ctx = llcpp.new_context(model, n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_ubatch, n_threads=args.threads,
                            flash_attn=args.flash_attn)
    t1 = time.perf_counter()
    nv = llcpp.n_vocab(model)
    batch = llcpp.Batch(max(n_batch, 1))
    batch.fill([int(rng.integers(nv))], 0)
    llcpp.decode(ctx, batch)
    C.llama_synchronize(ctx)
    _ = llcpp.logits_last(ctx, nv)
    t2 = time.perf_counter()
    log(f"load {t1 - t0:.3f}s, first token {t2 - t1:.3f}s  ({args.model.name}, {args.threads} threads)")

    def run_pp(n: int) -> float:
        llcpp.memory_clear(ctx)
        toks = rng.integers(nv, size=n).tolist()
        s = time.perf_counter()
        for i in range(0, n, n_batch):
            chunk = toks[i:i + n_batch]
            batch.fill(chunk, i)
            llcpp.decode(ctx, batch)
        C.llama_synchronize(ctx)
        return time.perf_counter() - s

    def run_tg(n: int) -> float:
        llcpp.memory_clear(ctx)
        toks = rng.integers(nv, size=n).tolist()
        s = time.perf_counter()
        for i, t in enumerate(toks):
            batch.fill([t], i)
            llcpp.decode(ctx, batch)
            C.llama_synchronize(ctx)
        return time.perf_counter() - s

    if not args.no_warmup:
        if args.n_prompt > 0:
            w = run_pp(args.n_prompt)
            log(f"warm-up pp{args.n_prompt}: {args.n_prompt / w:.2f} t/s")
        if args.n_gen > 0:
            run_tg(1)

    results = []
    for test, n, fn, n_prompt, n_gen in ((f"pp{args.n_prompt}", args.n_prompt, run_pp, args.n_prompt, 0),
                                         (f"tg{args.n_gen}", args.n_gen, run_tg, 0, args.n_gen)):
        if n <= 0:
            continue
        secs, foreign = [], []
        for r in range(args.repetitions):
            with Interference() as itf:
                secs.append(fn(n))
            foreign.append(itf.fraction)
            log(f"{test} rep {r + 1}: {n / secs[-1]:.2f} t/s  (other processes: {100 * itf.fraction:.0f}% of the CPUs)")
        results.append({"test": test, "n_prompt": n_prompt, "n_gen": n_gen,
                        **stats([n / s for s in secs], secs, foreign)})

    out = {
        "engine": "llama.cpp",
        "llama_cpp_python": llcpp.version(),
        "model": str(args.model),
        "model_bytes": int(C.llama_model_size(model)),
        "file_bytes": args.model.stat().st_size,
        "n_params": int(C.llama_model_n_params(model)),
        "threads": args.threads,
        "n_batch": n_batch,
        "n_ubatch": n_ubatch,
        "n_ctx": n_ctx,
        "flash_attn": args.flash_attn,
        "mmap": not args.no_mmap,
        "repetitions": args.repetitions,
        "load_seconds": round(t1 - t0, 4),
        "first_token_seconds": round(t2 - t1, 4),
        "load_first_token_seconds": round(t2 - t0, 4),
        "results": results,
        "rss_before_load_bytes": rss0,
        "peak_resident_bytes": peak_rss(),
        "system_info": llcpp.system_info().strip(),
    }
    batch.free()
    llcpp.free(ctx, model)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
