#!/usr/bin/env python3
"""PyTorch/transformers CPU baseline: prefill and greedy-decode throughput of a Phi-4-mini HF folder.

    .venv/bin/python tools/bench/bench_torch.py bench-models/phi4mini-random-bf16
    .venv/bin/python tools/bench/bench_torch.py bench-models/phi4mini-random-f32 --dtype f32

Method (a manual loop, not model.generate, so the two phases are timed separately and without generate's
logits-processor/stopping overhead; the arithmetic is the same as generate's greedy path):
  * a random prompt of --prompt-tokens ids (seeded, drawn from the o200k range 0..199997), no tokenization;
  * warmup: one forward of --warmup-tokens tokens plus 4 decode steps on a throwaway cache (not timed);
  * prefill: one Phi3ForCausalLM forward over the whole prompt with a fresh DynamicCache and logits_to_keep=1
    (only the last position's logits, as generate does); prefill_tokens_per_second = prompt tokens / that time;
  * decode: --new-tokens greedy steps, each a forward of the single argmax token of the previous step with the
    cache and logits_to_keep=1; decode_tokens_per_second = new tokens / total decode time.
    The first decode step consumes the prefill logits, so all timed steps are one-token forwards.
torch.set_num_threads(--threads, default 2); the attention implementation is transformers' default (sdpa) unless
--attn is given. Lengths stay below original_max_position_embeddings (4096), so LongRoPE never switches regime.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import transformers

DTYPES = {"bf16": torch.bfloat16, "f32": torch.float32}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--warmup-tokens", type=int, default=32)
    ap.add_argument("--attn", default=None, help="attn_implementation (default: transformers' default)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    dtype = DTYPES[args.dtype]

    t0 = time.perf_counter()
    kw = {"attn_implementation": args.attn} if args.attn else {}
    model = transformers.Phi3ForCausalLM.from_pretrained(str(args.folder), dtype=dtype, **kw).eval()
    load_s = time.perf_counter() - t0
    cfg = model.config

    g = torch.Generator().manual_seed(args.seed)
    prompt = torch.randint(0, 199998, (1, args.prompt_tokens), generator=g)

    def prefill(ids: torch.Tensor):
        cache = transformers.DynamicCache(config=cfg)
        out = model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1].argmax(-1, keepdim=True), out.cache

    def decode(tok: torch.Tensor, cache, steps: int) -> list[int]:
        ids = []
        for _ in range(steps):
            out = model(input_ids=tok, cache=cache, use_cache=True, logits_to_keep=1)
            cache = out.cache
            tok = out.logits[:, -1].argmax(-1, keepdim=True)
            ids.append(int(tok))
        return ids

    # warmup (untimed)
    tok, cache = prefill(prompt[:, : args.warmup_tokens])
    decode(tok, cache, 4)

    t0 = time.perf_counter()
    tok, cache = prefill(prompt)
    prefill_s = time.perf_counter() - t0
    assert cache.get_seq_length() == args.prompt_tokens

    t0 = time.perf_counter()
    generated = decode(tok, cache, args.new_tokens)
    decode_s = time.perf_counter() - t0

    print(json.dumps({
        "engine": "pytorch",
        "dtype": args.dtype,
        "prefill_tokens_per_second": args.prompt_tokens / prefill_s,
        "decode_tokens_per_second": args.new_tokens / decode_s,
        "prefill_tokens": args.prompt_tokens,
        "decode_tokens": args.new_tokens,
        "prefill_seconds": prefill_s,
        "decode_seconds": decode_s,
        "load_seconds": load_s,
        "threads": args.threads,
        "attn_implementation": model.config._attn_implementation,
        "method": "manual loop, DynamicCache, logits_to_keep=1, greedy argmax",
        "model": str(args.folder),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpu": platform.processor() or platform.machine(),
        "first_generated_ids": generated[:8],
    }))


if __name__ == "__main__":
    main()
