#!/usr/bin/env python3
"""Load test for `phi4 serve` replicas behind nginx (issue 13). Standard library only.

CLIENTS concurrent clients each hold one conversation and send REQUESTS streaming chat requests through the
balancer, the history growing turn by turn (so each turn's prompt starts with the previous one: the prefix a
replica's cache can reuse). Some requests are dropped mid-stream on purpose (random disconnects).

Checks (exit status 1 if any fails):
  - no lost request: every stream that was not dropped on purpose ends with `data: [DONE]`, or is a clean
    OpenAI-shaped error (HTTP error with a JSON {"error": {...}} body, or such an event inside the stream);
    anything else (reset, timeout, truncated stream, nginx's HTML 502) is lost;
  - the whole run ends within --deadline seconds;
  - affinity: all requests of one conversation are served by one replica (nginx's X-PhiKit-Upstream header),
    and more than one replica served traffic (so the check means something); each replica's own /metrics
    count of finished requests is at least the number of completed streams the header attributes to it;
  - memory: each replica's peak resident size (VmHWM in /proc/PID/status) is within --memory-budget-mib.
Prints p50/p99 time to first token (first non-empty content delta) over the completed streams.
"""

import argparse
import os
import random
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from streamclient import Outcome, by_kind, read_memory_mib, read_metrics, stream_chat, ttft_summary  # noqa: E402

SYSTEM_PROMPT = ("You are a helpful assistant in a load test. Answer briefly. "
                 "This system prompt is shared by every conversation, so replicas cache it as a prefix.")


def client_loop(args, base, index, results, lock, deadline):
    rng = random.Random(args.seed * 1000 + index)
    # Three clients in four name their conversation; the fourth kind relies on nginx's fallback key, the
    # Authorization header (the replicas run without --api-key, so any bearer value is accepted).
    if index % 4 == 3:
        key = "Bearer load-test-user-%d" % index
        headers = {"Authorization": key}
    else:
        key = "conv-%d-%d" % (args.seed, index)
        headers = {"X-Conversation-ID": key}
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for turn in range(args.requests):
        outcome = Outcome(client=index, turn=turn, key=key)
        if time.monotonic() > deadline:
            outcome.kind, outcome.detail = "lost", "not sent: deadline passed"
        else:
            messages.append({"role": "user", "content": "Client %d, turn %d: say something about %s." % (
                index, turn, rng.choice(["rivers", "prime numbers", "bread", "comets", "chess", "tea"]))})
            drop_after = None
            if rng.random() < args.disconnect_rate:
                drop_after = rng.choice([0, 1, 2, 3])
            body = {"model": "phi-4", "messages": messages, "max_tokens": args.max_tokens, "temperature": 0}
            stream_chat(base.hostname, base.port, body, outcome, headers, drop_after, args.request_timeout)
            if outcome.kind == "done":
                messages.append({"role": "assistant", "content": outcome.text})
            else:
                messages.pop()  # the turn did not complete: retry a new question on the same history
        with lock:
            results.append(outcome)


COUNTERS = ("phikit_requests_total", "phikit_prompt_tokens_total", "phikit_prompt_cached_tokens_total")


def read_counters(url):
    """The counters above from a replica's /metrics (requests_total counts finished generations)."""
    values = read_metrics(url)
    return {name: int(values.get(name, 0)) for name in COUNTERS}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="the balancer, e.g. http://127.0.0.1:8080")
    p.add_argument("--replica", action="append", default=[], metavar="ADDR=PID",
                   help="a replica as host:port=pid (its /metrics and /proc/PID/status are read); repeat")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--requests", type=int, default=4, help="streaming requests per client")
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--disconnect-rate", type=float, default=0.1, help="share of requests dropped mid-stream")
    p.add_argument("--deadline", type=float, default=120, help="seconds the whole run may take")
    p.add_argument("--request-timeout", type=float, default=60, help="socket timeout per request, seconds")
    p.add_argument("--memory-budget-mib", type=int, default=2048, help="peak RSS allowed per replica")
    p.add_argument("--max-errors", type=int, default=0,
                   help="clean OpenAI-shaped errors tolerated (e.g. 503 when queues are full)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    base = urllib.parse.urlsplit(args.url)
    replicas = {}
    for spec in args.replica:
        addr, _, pid = spec.rpartition("=")
        if not addr or not pid.isdigit():
            p.error("--replica takes host:port=pid, got %r" % spec)
        replicas[addr] = int(pid)
    before = {addr: read_counters("http://" + addr) for addr in replicas}

    results, lock = [], threading.Lock()
    start = time.monotonic()
    deadline = start + args.deadline
    threads = [threading.Thread(target=client_loop, args=(args, base, i, results, lock, deadline), daemon=True)
               for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline + args.request_timeout - time.monotonic()))
    wall = time.monotonic() - start
    hung = sum(t.is_alive() for t in threads)
    with lock:
        results = list(results)

    failures = []
    expected = args.clients * args.requests
    kinds = by_kind(results)
    missing = expected - len(results)
    lost = len(kinds["lost"]) + missing
    if lost:
        failures.append("%d lost requests (%d unfinished)" % (lost, missing))
        for r in kinds["lost"][:10]:
            print("  lost: client %d turn %d via %s: %s" % (r.client, r.turn, r.upstream, r.detail))
    if hung:
        failures.append("%d clients still running at the deadline" % hung)
    if wall > args.deadline:
        failures.append("run took %.1f s, over the %.0f s deadline" % (wall, args.deadline))
    if len(kinds["error"]) > args.max_errors:
        failures.append("%d clean errors, more than the %d allowed" % (len(kinds["error"]), args.max_errors))
        for r in kinds["error"][:10]:
            print("  error: client %d turn %d via %s: %s" % (r.client, r.turn, r.upstream, r.detail))
    if not kinds["done"]:
        failures.append("no stream completed")

    # Affinity: one replica per conversation key, over every request nginx answered.
    routes = {}
    for r in results:
        if r.upstream:
            # On a retry nginx lists every replica tried ("a:1, b:2"); the last one answered.
            routes.setdefault(r.key, set()).add(r.upstream.split(",")[-1].strip())
    split = {k: v for k, v in routes.items() if len(v) > 1}
    if split:
        failures.append("%d conversations were served by several replicas, e.g. %s" % (
            len(split), next(iter(split.items()))))
    served = {}
    for r in kinds["done"]:
        if r.upstream:
            addr = r.upstream.split(",")[-1].strip()
            served[addr] = served.get(addr, 0) + 1
    if len(set().union(*routes.values()) if routes else set()) < 2:
        failures.append("only one replica served traffic, so affinity was not put to the test: %s" % served)
    unrouted = sum(1 for r in kinds["done"] if not r.upstream)
    if unrouted:
        failures.append("%d completed streams without an X-PhiKit-Upstream header" % unrouted)

    print("scale-out load test: %d clients x %d streaming requests through %s in %.1f s" % (
        args.clients, args.requests, args.url, wall))
    print("  requests %d: completed %d, clean errors %d, disconnected on purpose %d, lost %d" % (
        expected, len(kinds["done"]), len(kinds["error"]), len(kinds["disconnected"]), lost))
    print("  " + ttft_summary(results))
    print("  affinity: %d conversation keys, each on one replica: %s" % (len(routes), "yes" if not split else "NO"))
    prompt_total = cached_total = 0
    for addr, pid in sorted(replicas.items()):
        try:
            status = read_memory_mib(pid)
            after = read_counters("http://" + addr)
        except (OSError, ValueError) as e:
            failures.append("replica %s (pid %d) could not be read: %s" % (addr, pid, e))
            continue
        finished, prompt, cached = (after[n] - before[addr][n] for n in COUNTERS)
        prompt_total += prompt
        cached_total += cached
        hwm, rss = status.get("VmHWM", 0), status.get("VmRSS", 0)
        print("  replica %s pid %d: completed streams (header) %d, finished (its /metrics) %d, prompt tokens "
              "%d of which from its prefix cache %d, peak RSS %d MiB, RSS %d MiB (budget %d MiB)" % (
                  addr, pid, served.get(addr, 0), finished, prompt, cached, hwm, rss, args.memory_budget_mib))
        if hwm > args.memory_budget_mib:
            failures.append("replica %s peak RSS %d MiB over the %d MiB budget" % (addr, hwm, args.memory_budget_mib))
        if finished < served.get(addr, 0):
            failures.append("replica %s counts %d finished requests but nginx attributes %d completed streams to it"
                            % (addr, finished, served.get(addr, 0)))
    if replicas and prompt_total:
        print("  prefix cache: %.0f%% of prompt tokens were cached" % (100.0 * cached_total / prompt_total))
    unknown = set(served) - set(replicas)
    if replicas and unknown:
        failures.append("streams served by unknown upstreams %s" % sorted(unknown))

    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print("scale-out load test OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
