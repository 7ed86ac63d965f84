#!/usr/bin/env python3
"""Write a FULL-SIZE Phi-4-mini Hugging Face folder with random weights, for speed benchmarks only.

    .venv/bin/python tools/bench/make_random_phi4mini.py                     # bf16 -> bench-models/phi4mini-random-bf16
    .venv/bin/python tools/bench/make_random_phi4mini.py --dtype f32         # f32  -> bench-models/phi4mini-random-f32
    .venv/bin/python tools/bench/make_random_phi4mini.py --tokenizer-only    # (re)copy the tokenizer into the folder

Layout: the real config (../shared/reference/configs/phi4-mini.config.json from the repository root, torch_dtype set to the chosen dtype)
and generation_config; weights N(0, 0.02) (RMSNorm weights 1 + N(0, 0.02)) from a seeded generator, tied embeddings
(no lm_head.weight), written as ~5 GB safetensors shards + model.safetensors.index.json. Each shard is streamed: the
header is computed from the shapes first, then every tensor is generated and written in row chunks, so peak memory
is one chunk (<= 256 MB), not the model. The tokenizer (tokenizer.json + tokenizer_config.json) is copied from
Tests/PhiTokenizerTests/Fixtures/ when present, or from --tokenizer-dir; without one the folder has no tokenizer
(bench_torch.py does not need it) and a warning is printed.

bench-models/ is gitignored.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import sys
import time
from pathlib import Path

import numpy as np

try:  # torch gives the seeded stream the committed figures were made with; numpy is the fallback where the
    import torch  # PyTorch wheel index is unreachable (the weights are random either way)
except ImportError:
    torch = None

REPO = Path(__file__).resolve().parents[2]
REFERENCE_CONFIGS = REPO.parent / "shared" / "reference" / "configs"  # ../shared beside the repository
DEFAULT_TOKENIZER_DIR = REPO / "Tests" / "PhiTokenizerTests" / "Fixtures"
SHARD_BYTES = 5 * 1000 ** 3
CHUNK_ELEMENTS = 64 * 1024 * 1024

DTYPES = {
    "bf16": ("bf16", "BF16", "bfloat16", 2),
    "f32": ("f32", "F32", "float32", 4),
}


def tensor_specs(cfg: dict) -> list[tuple[str, list[int], str]]:
    """(name, shape, kind) in checkpoint order; kind is "normal" or "norm"."""
    H, I, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = H // nh
    specs = [("model.embed_tokens.weight", [V, H], "normal")]
    for i in range(L):
        p = f"model.layers.{i}."
        specs += [
            (p + "input_layernorm.weight", [H], "norm"),
            (p + "self_attn.qkv_proj.weight", [(nh + 2 * nkv) * hd, H], "normal"),
            (p + "self_attn.o_proj.weight", [H, nh * hd], "normal"),
            (p + "post_attention_layernorm.weight", [H], "norm"),
            (p + "mlp.gate_up_proj.weight", [2 * I, H], "normal"),
            (p + "mlp.down_proj.weight", [H, I], "normal"),
        ]
    specs.append(("model.norm.weight", [H], "norm"))
    if not cfg.get("tie_word_embeddings", False):
        specs.append(("lm_head.weight", [V, H], "normal"))
    return specs


def numel(shape: list[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def plan_shards(specs, elem_size: int) -> list[list]:
    shards, cur, cur_bytes = [], [], 0
    for spec in specs:
        nbytes = numel(spec[1]) * elem_size
        if cur and cur_bytes + nbytes > SHARD_BYTES:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append(spec)
        cur_bytes += nbytes
    if cur:
        shards.append(cur)
    return shards


def write_shard(path: Path, specs, torch_dtype, st_dtype: str, elem_size: int, gen,
                std: float) -> int:
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _ in specs:
        nbytes = numel(shape) * elem_size
        header[name] = {"dtype": st_dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)  # data start aligned to 8 bytes, like safetensors does
    # kind -> (std, offset): "normal" weights, "norm"/"one" scales around 1, small "bias" values.
    init = {"normal": (std, 0.0), "norm": (std, 1.0), "one": (std, 1.0), "bias": (std / 10, 0.0)}
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name, shape, kind in specs:
            rows = shape[0]
            row_elems = numel(shape[1:]) if len(shape) > 1 else 1
            step = max(1, CHUNK_ELEMENTS // row_elems)
            for r0 in range(0, rows, step):
                r1 = min(rows, r0 + step)
                k_std, k_offset = init[kind]
                if torch is None:
                    chunk = gen.standard_normal([r1 - r0] + shape[1:], dtype=np.float32) * k_std + k_offset
                    if torch_dtype == "bf16":  # round to nearest even, as torch's .to(bfloat16)
                        u = chunk.view(np.uint32)
                        chunk = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
                    f.write(chunk.tobytes())
                    continue
                chunk = torch.randn([r1 - r0] + shape[1:], generator=gen, dtype=torch.float32) * k_std + k_offset
                chunk = chunk.to(torch.bfloat16 if torch_dtype == "bf16" else torch.float32).contiguous()
                raw = chunk.view(torch.int16) if torch_dtype == "bf16" else chunk
                f.write(raw.numpy().tobytes())
    return offset


def write_sharded(out: Path, specs, torch_dtype, st_dtype: str, elem_size: int, seed: int, std: float,
                  total_parameters: int) -> tuple[int, int]:
    """Replaces out's safetensors shards with random ones for `specs` plus model.safetensors.index.json;
    returns (shard count, bytes of tensor data)."""
    for old in list(out.glob("model*.safetensors")) + list(out.glob("model.safetensors.index.json")):
        old.unlink()
    if torch is None:
        gen = np.random.default_rng(seed)
    else:
        torch.set_num_threads(2)
        gen = torch.Generator().manual_seed(seed)
    shards = plan_shards(specs, elem_size)
    weight_map, total = {}, 0
    t0 = time.time()
    for k, shard in enumerate(shards):
        name = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        total += write_shard(out / name, shard, torch_dtype, st_dtype, elem_size, gen, std)
        weight_map.update({s[0]: name for s in shard})
        print(f"wrote {name} ({len(shard)} tensors) at {time.time() - t0:.0f} s", flush=True)
    index = {"metadata": {"total_size": total, "total_parameters": total_parameters},
             "weight_map": dict(sorted(weight_map.items()))}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    return len(shards), total


def copy_tokenizer(src: Path, out: Path) -> bool:
    files = ["tokenizer.json", "tokenizer_config.json"]
    if not all((src / f).is_file() for f in files):
        print(f"warning: no tokenizer.json + tokenizer_config.json in {src}; folder written without a tokenizer "
              f"(rerun with --tokenizer-only [--tokenizer-dir DIR] once they exist)", file=sys.stderr)
        return False
    for f in files + ["special_tokens_map.json", "added_tokens.json"]:
        if (src / f).is_file():
            shutil.copyfile(src / f, out / f)
    print(f"tokenizer copied from {src}")
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description="random full-size Phi-4-mini HF folder")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    ap.add_argument("--out", type=Path, help="default: bench-models/phi4mini-random-{dtype}")
    ap.add_argument("--tokenizer-dir", type=Path, default=DEFAULT_TOKENIZER_DIR)
    ap.add_argument("--tokenizer-only", action="store_true", help="only copy the tokenizer into --out")
    ap.add_argument("--seed", type=int, default=20250226)
    ap.add_argument("--std", type=float, default=0.02)
    args = ap.parse_args()

    torch_dtype, st_dtype, cfg_dtype, elem_size = DTYPES[args.dtype]
    out = args.out or REPO / "bench-models" / f"phi4mini-random-{args.dtype}"
    out.mkdir(parents=True, exist_ok=True)
    if args.tokenizer_only:
        sys.exit(0 if copy_tokenizer(args.tokenizer_dir, out) else 1)

    cfg = json.loads((REFERENCE_CONFIGS / "phi4-mini.config.json").read_text())
    cfg["torch_dtype"] = cfg_dtype
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    shutil.copyfile(REFERENCE_CONFIGS / "phi4-mini.generation_config.json", out / "generation_config.json")
    copy_tokenizer(args.tokenizer_dir, out)
    t0 = time.time()
    specs = tensor_specs(cfg)
    n_params = sum(numel(s[1]) for s in specs)
    n_shards, total = write_sharded(out, specs, torch_dtype, st_dtype, elem_size, args.seed, args.std, n_params)
    (out / "RANDOM_WEIGHTS.txt").write_text(
        f"Random weights (N(0, {args.std}), norms 1 + N(0, {args.std}), seed {args.seed}, {args.dtype}) in the "
        f"Phi-4-mini layout, written by tools/bench/make_random_phi4mini.py. For speed benchmarks only.\n")
    print(f"{out}: {n_params:,} parameters, {total / 1e9:.3f} GB in {n_shards} shards, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
