#!/usr/bin/env python3
"""phi4 serve vs llama-server on the same GGUF, same machine, same run (a benchmark script, not a test).

    tools/server/setup_bench.sh                       # once: random full-size Phi-4-mini Q4_0 GGUF + llama-server
    swift build -c release --product phi4
    python3 tools/server/bench_vs_llama_server.py [--phi4 .build/release/phi4] [--llama-server .build-llama/bin/llama-server]

Both servers get 2 threads and 4 slots. Measured through each one's OpenAI-compatible /v1/chat/completions, streamed:
  * time to first token of a request with a ~1,500-token system prompt, cold, and of a second request that shares
    the system prompt (prefix cache: PhiKit's prefix cache, llama-server's slot cache / cache_prompt);
  * aggregate generated tokens/s with 1 and with 4 concurrent streams (--gen tokens each; end-of-sequence ids are
    banned with logit_bias so every stream generates the same count).
Prints a markdown table with PhiKit / llama-server ratios (time: lower is better; tokens/s: higher is better).
Standard library only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serverproc import free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
WORDS = ("system policy careful answer context detail tool weather city river number report table summary example "
         "reason method result value measure time place person language question").split()


def system_prompt(words: int) -> str:
    return "You are a careful assistant. " + " ".join(WORDS[(i * 7) % len(WORDS)] for i in range(words))


@dataclass
class Streamed:
    """One streamed chat completion: seconds to the first content, the usage the server reported, and the
    perf_counter time of every content chunk (for decode-phase rates)."""
    ttft: float
    tokens: int
    cached: int
    times: list[float]


def stream(port: int, messages, gen: int, ban: dict | None = None) -> Streamed:
    body = {"model": "m", "messages": messages, "max_tokens": gen, "stream": True, "temperature": 0,
            "stream_options": {"include_usage": True}, "cache_prompt": True}
    if ban:
        body["logit_bias"] = ban
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 200, r.read()
    times, tokens, cached = [], 0, -1
    for line in r:
        line = line.strip()
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        o = json.loads(line[6:])
        if o.get("usage"):
            tokens = o["usage"]["completion_tokens"]
            cached = (o["usage"].get("prompt_tokens_details") or {}).get("cached_tokens", -1)
        if any((ch.get("delta") or {}).get("content") for ch in o.get("choices") or []):
            times.append(time.perf_counter())
    conn.close()
    ttft = times[0] - t0 if times else float("nan")
    return Streamed(ttft, tokens, cached, times)


def serve(cmd: list[str], port: int):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 1800
    while time.time() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    wait_for_weights(port, deadline)
                    return p
        except Exception:  # noqa: BLE001 - loading
            time.sleep(1)
    raise RuntimeError("server did not start")


def wait_for_weights(port: int, deadline: float) -> None:
    """Steady state before timing: phi4 serve repacks quantized weights in the background once a first request
    has used them (its /metrics gauge phikit_weights_pending_repack reaches 0); llama-server repacks before it
    answers /health. One short warm-up request (every server started here gets it), then wait."""
    stream(port, [{"role": "user", "content": "warm up"}], 2)
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                pending = [line for line in r.read().decode().splitlines()
                           if line.startswith("phikit_weights_pending_repack ")]
        except Exception:  # noqa: BLE001 - no /metrics (llama-server without --metrics)
            return
        if not pending or float(pending[0].split()[1]) == 0:
            return
        time.sleep(0.5)


def concurrent(port: int, prompts: list[str], gen: int, ban: dict) -> tuple[int, float, float]:
    """Streams one user message per prompt at once: (completion tokens of all, wall seconds to the last end,
    decode-phase tokens/s). The decode phase starts when the last stream has its first token (every prompt has
    been read) and ends with the last stream; its rate counts the tokens streamed inside it."""
    out: list[Streamed | None] = [None] * len(prompts)

    def run(k):
        out[k] = stream(port, [{"role": "user", "content": prompts[k]}], gen, ban)
    t0 = time.perf_counter()
    ts = [threading.Thread(target=run, args=(k,)) for k in range(len(prompts))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    start = max(o.times[0] for o in out if o.times)
    end = max(o.times[-1] for o in out if o.times)
    # A chunk may carry more than one token (a detokenizer holds back partial characters): weight each stream's
    # chunks by its completion tokens per chunk.
    inside = sum(o.tokens / len(o.times) * sum(1 for t in o.times if t > start) for o in out if o.times)
    return sum(o.tokens for o in out), wall, inside / (end - start) if end > start else float("nan")


def peer_arguments(doc: str) -> argparse.ArgumentParser:
    """The flags every PhiKit-vs-llama-server benchmark takes: both binaries, the GGUF, the thread count."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phi4", default=str(REPO / ".build" / "release" / "phi4"))
    ap.add_argument("--llama-server", default=str(REPO / ".build-llama" / "bin" / "llama-server"))
    ap.add_argument("--model", default=str(REPO / "bench-models" / "phi4mini-random-Q4_0.gguf"))
    ap.add_argument("--threads", type=int, default=2)
    return ap


def stop(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=120)


def measure(name: str, cmd: list[str], port: int, args, ban: dict) -> dict:
    p = serve(cmd, port)
    try:
        sys_msg = {"role": "system", "content": system_prompt(args.system_words)}
        cold = stream(port, [sys_msg, {"role": "user", "content": "First question: what is a river?"}], 8, ban).ttft
        warm = stream(port, [sys_msg, {"role": "user", "content": "Second question: what is a table?"}], 8, ban).ttft
        rates = {}
        for n in (1, 4):
            prompts = [f"Stream {k}: write about {WORDS[k]}." for k in range(n)]
            tokens, wall, _ = concurrent(port, prompts, args.gen, ban)
            rates[n] = tokens / wall
        print(f"{name}: cold TTFT {cold:.2f} s, shared-prefix TTFT {warm:.2f} s, 1 stream {rates[1]:.2f} tok/s, "
              f"4 streams {rates[4]:.2f} tok/s", flush=True)
        return {"cold": cold, "warm": warm, "r1": rates[1], "r4": rates[4]}
    finally:
        stop(p)


def main() -> int:
    ap = peer_arguments(__doc__)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--system-words", type=int, default=1450, help="~1,500 tokens with the o200k tokenizer")
    args = ap.parse_args()
    ban = {"199999": -100, "200020": -100}   # <|endoftext|>, <|end|>: every stream runs to --gen tokens
    pp = free_port()
    phi = measure("PhiKit", [args.phi4, "serve", "--model", args.model, "--port", str(pp), "-t", str(args.threads),
                             "--parallel", "4", "--max-tokens", "8192"], pp, args, ban)
    lp = free_port()
    ll = measure("llama-server", [args.llama_server, "-m", args.model, "--port", str(lp), "-t", str(args.threads),
                                  "-np", "4", "-c", "16384", "--cont-batching"], lp, args, ban)
    print("\n| | PhiKit | llama-server | PhiKit / llama-server |\n|---|---|---|---|")
    print(f"| TTFT, 1,500-token system prompt, cold | {phi['cold']:.2f} s | {ll['cold']:.2f} s | {phi['cold'] / ll['cold']:.2f} |")
    print(f"| TTFT, second request (shared prefix) | {phi['warm']:.2f} s | {ll['warm']:.2f} s | {phi['warm'] / ll['warm']:.2f} |")
    print(f"| tokens/s, 1 stream | {phi['r1']:.2f} | {ll['r1']:.2f} | {phi['r1'] / ll['r1']:.2f} |")
    print(f"| tokens/s, 4 streams | {phi['r4']:.2f} | {ll['r4']:.2f} | {phi['r4'] / ll['r4']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
