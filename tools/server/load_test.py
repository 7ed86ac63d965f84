#!/usr/bin/env python3
"""Load test of `phi4 serve` on loopback (bounded): N concurrent streaming clients, a fixed number of requests,
random disconnects, against SmolLM2-135M (a real GGUF; tools/fetch-smollm2.sh fetches it).

    python3 tools/server/load_test.py --phi4 .build/release/phi4 [--clients 32 --requests 128 --max-tokens 48]

Reports: requests completed / cut by the client / failed / lost (no [DONE] and no clean error), time to first
token p50/p99 (completed requests), aggregate generated tokens/s, idle / peak / after RSS, and that the engine
drains to 0 running and 0 queued. Exit 1 when anything failed or was lost. Standard library only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serverproc import PhiServe  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["the sea", "a robot", "winter", "coffee", "mountains", "a library", "trains", "the moon", "gardens", "rain"]


def one_request(port: int, i: int, max_tokens: int, cut_after: int | None, out: dict, timeout: float):
    body = json.dumps({"model": "smollm2", "stream": True, "max_tokens": max_tokens, "temperature": 0.7, "seed": i,
                       "messages": [{"role": "system", "content": "You are a helpful assistant."},
                                    {"role": "user", "content": f"Write a short story about {TOPICS[i % len(TOPICS)]} (#{i})."}]})
    t0 = time.perf_counter()
    rec = {"ttft": None, "tokens": 0, "done": False, "error": None, "cut": False}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            rec["error"] = f"HTTP {resp.status}: {resp.read()[:200]!r}"
        else:
            while True:
                line = resp.readline()
                if not line:
                    break
                line = line.strip()
                if not line.startswith(b"data: "):
                    continue
                data = line[6:]
                if data == b"[DONE]":
                    rec["done"] = True
                    break
                obj = json.loads(data)
                if "error" in obj:
                    rec["error"] = obj["error"]["message"]
                    break
                delta = obj["choices"][0]["delta"] if obj.get("choices") else {}
                if delta.get("content"):
                    if rec["ttft"] is None:
                        rec["ttft"] = time.perf_counter() - t0
                    rec["tokens"] += 1
                    if cut_after is not None and rec["tokens"] >= cut_after:
                        rec["cut"] = True
                        break
        conn.close()   # a cut stream: the socket closes mid-response
    except Exception as e:  # noqa: BLE001
        rec["error"] = repr(e)
    rec["seconds"] = time.perf_counter() - t0
    out[i] = rec


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phi4", default=str(REPO / ".build" / "release" / "phi4"))
    ap.add_argument("--model", help="GGUF (default: tools/fetch-smollm2.sh)")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--disconnect", type=float, default=0.25, help="fraction of streams the client cuts early")
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--cache-mib", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    model = args.model or subprocess.run([str(REPO / "tools" / "fetch-smollm2.sh")], capture_output=True, text=True,
                                         check=True).stdout.strip()
    rng = random.Random(args.seed)
    plan = [rng.randint(1, 8) if rng.random() < args.disconnect else None for _ in range(args.requests)]
    with PhiServe(args.phi4, model, "--parallel", str(args.parallel), "--max-queue", str(args.requests),
                  "--cache-bytes", f"{args.cache_mib}M", "-t", str(args.threads), "--model-id", "smollm2") as s:
        # Warm up (weights paged in, kernels ready), then the idle level.
        s.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
        time.sleep(0.5)
        idle = s.rss_mib()
        peak = [idle]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], s.rss_mib())
                except OSError:
                    pass
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        results: dict[int, dict] = {}
        pending = list(range(args.requests))
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    if not pending:
                        return
                    i = pending.pop(0)
                one_request(s.port, i, args.max_tokens, plan[i], results, args.timeout)

        t0 = time.perf_counter()
        workers = [threading.Thread(target=client) for _ in range(args.clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(args.timeout)
        wall = time.perf_counter() - t0
        # The engine drains (cut streams cancelled, slots freed) and memory settles.
        drained = False
        for _ in range(200):
            m = s.metrics()
            if m.get("phikit_requests_running", 1) == 0 and m.get("phikit_requests_queued", 1) == 0:
                drained = True
                break
            time.sleep(0.1)
        time.sleep(1)
        after = s.rss_mib()
        stop.set()
        m = s.metrics()
    completed = [r for r in results.values() if r["done"]]
    cut = [r for r in results.values() if r["cut"]]
    failed = [r for r in results.values() if r["error"]]
    lost = args.requests - len(completed) - len(cut) - len(failed)
    ttft = sorted(r["ttft"] for r in completed if r["ttft"] is not None)
    q = lambda p: ttft[min(len(ttft) - 1, int(p * len(ttft)))] if ttft else float("nan")  # noqa: E731
    print(f"requests {args.requests}, clients {args.clients}, max_tokens {args.max_tokens}, --parallel {args.parallel}, "
          f"{args.threads} threads, wall {wall:.1f} s")
    print(f"completed with [DONE]: {len(completed)}, cut by the client: {len(cut)}, failed: {len(failed)}, lost: {lost}")
    for r in failed[:5]:
        print("  failure:", r["error"])
    print(f"time to first token: p50 {q(0.5):.3f} s, p99 {q(0.99):.3f} s, max {ttft[-1] if ttft else float('nan'):.3f} s")
    gen = m.get("phikit_generated_tokens_total", 0)
    print(f"generated tokens (server): {gen:.0f}, aggregate {gen / wall:.1f} tokens/s")
    print(f"RSS: idle {idle:.0f} MiB, peak {peak[0]:.0f} MiB, after {after:.0f} MiB (prefix cache budget {args.cache_mib} MiB, "
          f"holding {m.get('phikit_prefix_cache_bytes', 0) / 2**20:.0f} MiB); engine drained: {drained}; "
          f"server exit code on SIGTERM: {s.exit_code}")
    ok = not failed and lost == 0 and drained and s.exit_code == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
