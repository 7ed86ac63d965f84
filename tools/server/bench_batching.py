#!/usr/bin/env python3
"""Continuous batching: phi4 serve vs llama-server, same GGUF, same machine, same run (a benchmark, not a test).

    tools/server/setup_bench.sh                       # once: random full-size Phi-4-mini Q4_0 GGUF + llama-server
    swift build -c release --product phi4
    python3 tools/server/bench_batching.py [--streams 1,2,4,8] [--gen 128] [--prompt-words 230] [--repeats 3]

For each stream count N both servers are started with N slots (`phi4 serve --parallel N`, `llama-server -np N
--cont-batching`) and 2 threads, and N clients stream at once, each with its own ~256-token prompt and --gen new
tokens (end-of-sequence banned with logit_bias so every stream generates the same count). Aggregate generated
tokens/s = all completion tokens / wall time from the first request to the last [DONE] (prefill included, as a
user sees it); the decode-phase rate counts only the tokens streamed after every prompt was read (from the last
stream's first token to the end), which is what batching itself changes. Then the prefix cache: time to first token of a request whose ~2,000-token system prompt an
earlier request already read, against the cold first request, on each server.
With --repeats R each server, once started and warm, serves R rounds of N fresh prompts (none shares a prefix with
an earlier one, so no prefix cache helps) and the tables give each rate's median: the single stream, bandwidth-bound,
is the figure that moves most with the load other machines put on the shared memory.
Prints markdown tables: PhiKit's rate against its own single stream and against llama-server. Standard library only.
"""
from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vs_llama_server import WORDS, concurrent, peer_arguments, serve, stop, stream, system_prompt  # noqa: E402
from serverproc import free_port  # noqa: E402

BAN = {"199999": -100, "200020": -100}   # <|endoftext|>, <|end|>


def distinct_prompt(k: int, words: int) -> str:
    rng = random.Random(1000 + k)
    return f"Request {k}. Continue this text: " + " ".join(rng.choice(WORDS) for _ in range(words))


def start(kind: str, args, n: int, port: int):
    if kind == "PhiKit":
        cmd = [args.phi4, "serve", "--model", args.model, "--port", str(port), "-t", str(args.threads),
               "--parallel", str(n), "--max-tokens", "8192"]
    else:
        cmd = [args.llama_server, "-m", args.model, "--port", str(port), "-t", str(args.threads),
               "-np", str(n), "-c", str(4096 * n), "--cont-batching"]
    return serve(cmd, port)


def rate(kind: str, args, n: int) -> tuple[float, float]:
    """Median (wall, decode-phase) aggregate tokens/s over args.repeats rounds on one warm server."""
    port = free_port()
    p = start(kind, args, n, port)
    try:
        walls, decodes = [], []
        for rep in range(args.repeats):
            prompts = [distinct_prompt(1000 * rep + k, args.prompt_words) for k in range(n)]
            tokens, wall, decode = concurrent(port, prompts, args.gen, BAN)
            walls.append(tokens / wall)
            decodes.append(decode)
            print(f"{kind} {n} streams, round {rep + 1}: {tokens} tokens in {wall:.1f} s = {tokens / wall:.2f} tok/s, "
                  f"decode phase {decode:.2f} tok/s", flush=True)
        return statistics.median(walls), statistics.median(decodes)
    finally:
        stop(p)


def prefix(kind: str, args) -> tuple[float, float]:
    port = free_port()
    p = start(kind, args, 1, port)
    try:
        sys_msg = {"role": "system", "content": system_prompt(args.prefix_words)}
        cold = stream(port, [sys_msg, {"role": "user", "content": "First question: what is a river?"}], 4, BAN).ttft
        warm = stream(port, [sys_msg, {"role": "user", "content": "Second question: what is a table?"}], 4, BAN).ttft
        print(f"{kind}: ~2,000-token prefix TTFT cold {cold:.2f} s, cached {warm:.3f} s", flush=True)
        return cold, warm
    finally:
        stop(p)


def main() -> int:
    ap = peer_arguments(__doc__)
    ap.add_argument("--streams", default="1,2,4,8")
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--prompt-words", type=int, default=230, help="~256 prompt tokens with the chat template")
    ap.add_argument("--prefix-words", type=int, default=1950, help="~2,000 tokens with the o200k tokenizer")
    ap.add_argument("--skip-prefix", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="rounds per server start; the tables give medians")
    args = ap.parse_args()
    counts = [int(s) for s in args.streams.split(",")]
    rates = {}
    for n in counts:   # the two servers alternate at each count, so drift in machine load hits both alike
        for kind in ("PhiKit", "llama-server"):
            rates[(kind, n)] = rate(kind, args, n)
    for which, title in ((0, "wall time, prefill included"), (1, "decode phase")):
        print(f"\n{title}:\n| streams | PhiKit tok/s | × PhiKit 1 stream | llama-server tok/s | PhiKit / llama-server |")
        print("|---|---|---|---|---|")
        base = rates[("PhiKit", 1)][which] if ("PhiKit", 1) in rates else None
        for n in counts:
            phi, ll = rates[("PhiKit", n)][which], rates[("llama-server", n)][which]
            own = f"{phi / base:.2f}" if base else "-"
            print(f"| {n} | {phi:.2f} | {own} | {ll:.2f} | {phi / ll:.2f} |")
    if not args.skip_prefix:
        res = {kind: prefix(kind, args) for kind in ("PhiKit", "llama-server")}
        print("\n| server | cold TTFT | cached-prefix TTFT | cached / cold |\n|---|---|---|---|")
        for kind, (cold, warm) in res.items():
            print(f"| {kind} | {cold:.2f} s | {warm:.3f} s | {warm / cold:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
