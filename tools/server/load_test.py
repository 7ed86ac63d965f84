#!/usr/bin/env python3
"""Load test of `phi4 serve` on loopback (bounded): N concurrent streaming clients, a fixed number of requests,
random disconnects, against SmolLM2-135M (a real GGUF; tools/fetch-smollm2.sh fetches it).

    python3 tools/server/load_test.py --phi4 .build/release/phi4 [--clients 32 --requests 128 --max-tokens 48]

Reports requests done ([DONE]) / clean errors / disconnected on purpose / lost (streamclient.py says which is
which), time to first token p50/p99 over the completed streams, aggregate generated tokens/s, and RSS idle (after
a warm-up) / peak / after. Checks (exit 1 if any fails): 0 lost, no more clean errors than --max-errors; the engine
drains to 0 running and 0 queued; /metrics accounts for every request once (finished + errors = sent, finished at
least the completed streams, generated tokens at least what the completed streams received); RSS after the run,
less what the prefix cache holds, is back within --rss-slack-mib of idle; exit 0 on SIGTERM. Standard library only.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serverproc import PhiServe  # noqa: E402
from streamclient import Outcome, by_kind, read_memory_mib, read_metrics, stream_chat, ttft_summary  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["the sea", "a robot", "winter", "coffee", "mountains", "a library", "trains", "the moon", "gardens", "rain"]
MIB = 2 ** 20


def delta(after: dict, before: dict, name: str) -> float:
    return after.get(name, 0) - before.get(name, 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phi4", default=str(REPO / ".build" / "release" / "phi4"))
    ap.add_argument("--model", help="GGUF (default: tools/fetch-smollm2.sh)")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--disconnect", type=float, default=0.25, help="fraction of streams the client drops early")
    ap.add_argument("--max-errors", type=int, default=0, help="clean OpenAI-shaped errors tolerated")
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--cache-mib", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600, help="socket timeout per request, seconds")
    ap.add_argument("--rss-slack-mib", type=float, default=32,
                    help="how far above idle the RSS after the run (less the prefix cache) may stay")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    model = args.model or subprocess.run([str(REPO / "tools" / "fetch-smollm2.sh")], capture_output=True, text=True,
                                         check=True).stdout.strip()
    rng = random.Random(args.seed)
    # Per request: None, or the number of SSE data events after which the client drops it (0: after the headers).
    plan = [rng.randint(0, 8) if rng.random() < args.disconnect else None for _ in range(args.requests)]
    failures = []
    with PhiServe(args.phi4, model, "--parallel", str(args.parallel), "--max-queue", str(args.requests),
                  "--cache-bytes", f"{args.cache_mib}M", "-t", str(args.threads), "--model-id", "smollm2") as s:
        pid = s.proc.pid
        # Warm up (weights paged in, kernels ready), then the idle level.
        s.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
        time.sleep(2)   # after the post-request trim, like the reading after the run
        before = read_metrics(s.url)
        idle = read_memory_mib(pid)["VmRSS"]
        idle_cache = before.get("phikit_prefix_cache_bytes", 0) / MIB
        results: list[Outcome] = []
        pending = list(range(args.requests))
        lock = threading.Lock()

        def client(index: int):
            while True:
                with lock:
                    if not pending:
                        return
                    i = pending.pop(0)
                body = {"model": "smollm2", "max_tokens": args.max_tokens, "temperature": 0.7, "seed": i,
                        "messages": [{"role": "system", "content": "You are a helpful assistant."},
                                     {"role": "user", "content": f"Write a short story about {TOPICS[i % len(TOPICS)]} (#{i})."}]}
                outcome = stream_chat("127.0.0.1", s.port, body, Outcome(client=index, turn=i),
                                      drop_after=plan[i], timeout=args.timeout)
                with lock:
                    results.append(outcome)

        t0 = time.perf_counter()
        workers = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(args.clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(max(0.0, t0 + args.timeout * args.requests - time.perf_counter()))
        wall = time.perf_counter() - t0
        hung = sum(w.is_alive() for w in workers)
        # The engine drains (dropped streams cancelled, slots freed) and memory settles (the server hands freed
        # memory back to the system within a second of going idle).
        drained = False
        for _ in range(200):
            m = read_metrics(s.url)
            if m.get("phikit_requests_running", 1) == 0 and m.get("phikit_requests_queued", 1) == 0:
                drained = True
                break
            time.sleep(0.1)
        time.sleep(2)
        after = read_memory_mib(pid)
        m = read_metrics(s.url)
    with lock:
        results = list(results)
    kinds = by_kind(results)
    lost = len(kinds["lost"]) + args.requests - len(results)

    print(f"load test: {args.requests} streaming requests from {args.clients} clients, max_tokens {args.max_tokens}, "
          f"--parallel {args.parallel}, {args.threads} threads, wall {wall:.1f} s")
    print(f"  done with [DONE] {len(kinds['done'])}, clean errors {len(kinds['error'])}, "
          f"disconnected on purpose {len(kinds['disconnected'])}, lost {lost}")
    for o in (kinds["lost"] + kinds["error"])[:10]:
        print(f"  {o.kind}: request {o.turn}: {o.detail}")
    print("  " + ttft_summary(results))
    generated = delta(m, before, "phikit_generated_tokens_total")
    print(f"  generated tokens (server): {generated:.0f}, aggregate {generated / wall:.1f} tokens/s")
    cache = m.get("phikit_prefix_cache_bytes", 0) / MIB
    print(f"  RSS: idle {idle:.0f} MiB (prefix cache {idle_cache:.0f} MiB), peak {after['VmHWM']:.0f} MiB, after "
          f"{after['VmRSS']:.0f} MiB (prefix cache {cache:.0f} MiB of its {args.cache_mib} MiB budget)")
    finished, errors = delta(m, before, "phikit_requests_total"), delta(m, before, "phikit_request_errors_total")
    print(f"  /metrics over the run: requests_total +{finished:.0f}, request_errors_total +{errors:.0f}, "
          f"running {m.get('phikit_requests_running', float('nan')):.0f}, "
          f"queued {m.get('phikit_requests_queued', float('nan')):.0f}, "
          f"prompt tokens +{delta(m, before, 'phikit_prompt_tokens_total'):.0f} "
          f"(cached +{delta(m, before, 'phikit_prompt_cached_tokens_total'):.0f}); engine drained: {drained}; "
          f"exit code on SIGTERM: {s.exit_code}")

    if lost:
        failures.append(f"{lost} lost requests")
    if len(kinds["error"]) > args.max_errors:
        failures.append(f"{len(kinds['error'])} clean errors, more than the {args.max_errors} allowed")
    if not kinds["done"]:
        failures.append("no stream completed")
    if hung:
        failures.append(f"{hung} clients still running")
    if not drained:
        failures.append("the engine did not drain to 0 running and 0 queued")
    # Every request ends once on the server: a finished generation (counted even when the client dropped the
    # stream after the last token) or an error (a dropped stream whose generation was cancelled, a clean error).
    if finished + errors != args.requests:
        failures.append(f"/metrics counts {finished:.0f} finished + {errors:.0f} errors, not the {args.requests} sent")
    if finished < len(kinds["done"]):
        failures.append(f"/metrics counts {finished:.0f} finished requests, fewer than {len(kinds['done'])} completed")
    received = sum(o.content_events for o in kinds["done"])
    if generated < received:
        failures.append(f"/metrics counts {generated:.0f} generated tokens, fewer than the {received} content "
                        f"deltas the completed streams received")
    if after["VmRSS"] - cache > idle - idle_cache + args.rss_slack_mib:
        failures.append(f"RSS after the run less the prefix cache ({after['VmRSS'] - cache:.0f} MiB) is more than "
                        f"{args.rss_slack_mib:.0f} MiB over idle less the prefix cache ({idle - idle_cache:.0f} MiB)")
    if s.exit_code != 0:
        failures.append(f"phi4 serve exited with {s.exit_code} on SIGTERM")
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("load test OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
