#!/usr/bin/env python3
"""Write a FULL-SIZE Phi-4-multimodal folder (original hub layout, model_type "phi4mm") with random weights, for
speed benchmarks only.

    .venv/bin/python tools/bench/make_random_phi4mm.py                   # bf16 -> bench-models/phi4mm-random-bf16
    .venv/bin/python tools/bench/make_random_phi4mm.py --out DIR         # anywhere else
    .venv/bin/python tools/bench/make_random_phi4mm.py --dtype f32       # f32 (~22 GB)
    .venv/bin/python tools/bench/make_random_phi4mm.py --check           # names/shapes/count only, writes nothing
    .venv/bin/python tools/bench/make_random_phi4mm.py --extras-only     # config, tokenizer, bench image; no weights

Names and shapes (reference/phi4-multimodal.md §9) are not typed in by hand: the original config.json written here
is turned into transformers' native Phi4MultimodalConfig the way transformers' converter does it, the native
Phi4MultimodalModel is instantiated on the meta device, and its state_dict names are mapped back to the original
names (inverse of the converter's renames; the forward mapping is re-applied as a check). Each LoRA target of the LM
(qkv_proj, o_proj, gate_up_proj, down_proj in all 32 layers) becomes `….base_layer.weight` plus
`….lora_{A,B}.vision.weight` (r 256) and `….lora_{A,B}.speech.weight` (r 320). The total must be 5,574,460,384
parameters (§9), checked per component.

Values, from one seeded generator: weights N(0, std); LayerNorm/RMSNorm weights and the audio CMVN global_invstd
1 + N(0, std); biases (incl. the conformer GLU b1/b2 and global_mean) N(0, std/10); LoRA A and B N(0, std) (B is
not zero, so a LoRA branch costs real arithmetic). Streamed like make_random_phi4mini.py: each ~5 GB shard's header
is computed from the shapes, then every tensor is generated and written in row chunks (peak memory one chunk).

Also written: the original config.json (LM keys from reference/configs/phi4-mini.config.json plus embd_layer,
audio_processor, vision_lora, speech_lora, §1), generation_config.json (eos [200020, 199999]),
preprocessor_config.json (reference), the tokenizer (Tests/PhiTokenizerTests/Fixtures/ with <|endoftext10|> 200010
and <|endoftext11|> 200011 added as special tokens, as in the multimodal tokenizer), and a smooth synthetic
1024x768 RGB test image bench-models/bench-1024x768.png (--image to move it).

bench-models/ is gitignored.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_random_phi4mini import numel, write_sharded  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from phi4mm_names import converter_map_key, to_original_name  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
REFERENCE_CONFIGS = REPO.parent / "shared" / "reference" / "configs"  # ../shared beside the repository
DEFAULT_TOKENIZER_DIR = REPO / "Tests" / "PhiTokenizerTests" / "Fixtures"
EXPECTED_PARAMETERS = 5_574_460_384
EXPECTED_GROUPS = {  # reference §9
    "lm": 3_836_021_760,
    "lora": 830_472_192,
    "image_embed": 441_550_016,
    "audio_encoder": 441_238_304,
    "audio_projection": 25_178_112,
}

DTYPES = {
    "bf16": (torch.bfloat16, "BF16", "bfloat16", 2),
    "f32": (torch.float32, "F32", "float32", 4),
}

VISION_LORA = {"dp": 0.0, "layer": r"layers.*((self_attn\.(qkv_proj|o_proj))|(mlp\.(gate_up|down)_proj))",
               "lora_alpha": 512, "r": 256}
SPEECH_LORA = {"dp": 0.01, "layer": r"((layers.*self_attn\.(qkv|o)_proj)|(layers.*mlp\.(gate_up|down)_proj))",
               "lora_alpha": 640, "r": 320}
IMAGE_TOKENS = {200010: "<|endoftext10|>", 200011: "<|endoftext11|>"}


# ---------------------------------------------------------------------------------------------- config

def original_config(dtype_name: str) -> dict:
    """The original (remote-code) config.json of Phi-4-multimodal-instruct, reference §1."""
    mini = json.loads((REFERENCE_CONFIGS / "phi4-mini.config.json").read_text())
    cfg = dict(mini)
    cfg.update({
        "_name_or_path": "Phi-4-multimodal-instruct",
        "architectures": ["Phi4MMForCausalLM"],
        "auto_map": {
            "AutoConfig": "configuration_phi4mm.Phi4MMConfig",
            "AutoModelForCausalLM": "modeling_phi4mm.Phi4MMForCausalLM",
            "AutoTokenizer": "Xenova/gpt-4o",
        },
        "model_type": "phi4mm",
        "transformers_version": "4.46.1",
        "_attn_implementation": "flash_attention_2",
        "torch_dtype": dtype_name,
        "embd_layer": {
            "embedding_cls": "image_audio",
            "image_embd_layer": {
                "crop_size": 448,
                "embedding_cls": "tune_image",
                "enable_gradient_checkpointing": True,
                "hd_transform_order": "sub_glb",
                "image_token_compression_cls": "avg_pool_2d",
                "projection_cls": "mlp",
                "use_hd_transform": True,
                "with_learnable_separator": True,
            },
            "audio_embd_layer": {
                "compression_rate": 8,
                "downsample_rate": 1,
                "embedding_cls": "audio",
                "enable_gradient_checkpointing": True,
                "projection_cls": "mlp",
                "use_conv_downsample": False,
                "use_qformer": False,
            },
        },
        "audio_processor": {
            "name": "cascades",
            "config": {
                "activation": "swish",
                "activation_checkpointing": {"interval": 1, "module": "transformer", "offload": False},
                "attention_dim": 1024,
                "attention_heads": 16,
                "batch_norm": False,
                "bias_in_glu": True,
                "causal": True,
                "chunk_size": -1,
                "cnn_layer_norm": True,
                "conv_activation": "swish",
                "conv_glu_type": "swish",
                "depthwise_multiplier": 1,
                "depthwise_seperable_out_channel": 1024,
                "dropout_rate": 0.0,
                "encoder_embedding_config": {"input_size": 80},
                "ext_pw_kernel_size": 1,
                "ext_pw_out_channel": 1024,
                "input_layer": "nemo_conv",
                "input_size": 80,
                "kernel_size": 3,
                "left_chunk": 18,
                "linear_units": 1536,
                "nemo_conv_settings": {"conv_channels": 1024},
                "num_blocks": 24,
                "relative_attention_bias_args": {"t5_bias_max_distance": 500, "type": "t5"},
                "time_reduction": 8,
            },
        },
        "vision_lora": VISION_LORA,
        "speech_lora": SPEECH_LORA,
    })
    return dict(sorted(cfg.items()))


def native_config(orig: dict):
    """transformers' converter (convert_phi4_multimodal_weights_to_hf.convert_config), restated: the original
    config -> Phi4MultimodalConfig."""
    from transformers import Phi4MultimodalAudioConfig, Phi4MultimodalConfig, Phi4MultimodalVisionConfig

    c = copy.deepcopy(orig)
    for k in ("_name_or_path", "architectures", "auto_map", "vision_lora", "speech_lora", "transformers_version",
              "_attn_implementation", "model_type", "torch_dtype"):
        c.pop(k, None)
    embd = c.pop("embd_layer")
    audio_embd = {k: v for k, v in embd["audio_embd_layer"].items() if k in ("downsample_rate",)}
    vision_embd = {k: v for k, v in embd["image_embd_layer"].items()
                   if k in ("use_hd_transform", "crop_size", "hd_transform_order")}
    a = c.pop("audio_processor")["config"]
    for k in ("activation_checkpointing", "cnn_layer_norm", "input_layer", "encoder_embedding_config"):
        a.pop(k, None)
    a["hidden_size"] = a.pop("attention_dim")
    a["num_attention_heads"] = a.pop("attention_heads")
    a["intermediate_size"] = a.pop("linear_units")
    a["nemo_conv_channels"] = a.pop("nemo_conv_settings")["conv_channels"]
    a["bias_max_distance"] = a.pop("relative_attention_bias_args")["t5_bias_max_distance"]
    a["depthwise_separable_out_channel"] = a.pop("depthwise_seperable_out_channel")
    audio = Phi4MultimodalAudioConfig(**{**a, **audio_embd})
    vision = Phi4MultimodalVisionConfig(**vision_embd)
    return Phi4MultimodalConfig(**c, vision_config=vision, audio_config=audio)


# ---------------------------------------------------------------------------------------------- names

def to_native(original: str) -> str | None:
    """Forward mapping as the converter does it: renames, drop LoRA, strip base_layer."""
    return converter_map_key(original)


def group_of(name: str) -> str:
    if "lora_" in name:
        return "lora"
    if ".image_embed." in name:
        return "image_embed"
    if ".audio_embed.audio_projection." in name:
        return "audio_projection"
    if ".audio_embed." in name:
        return "audio_encoder"
    return "lm"


def tensor_specs(cfg: dict) -> list[tuple[str, list[int], str]]:
    """(original name, shape, kind) in checkpoint order; kind: normal | norm | bias | one."""
    ncfg = native_config(cfg)
    from transformers import Phi4MultimodalModel

    with torch.device("meta"):
        model = Phi4MultimodalModel(ncfg)
    kinds = {}
    for mod_name, mod in model.named_modules():
        is_norm = isinstance(mod, torch.nn.LayerNorm) or type(mod).__name__.endswith("RMSNorm")
        for p_name, _ in mod.named_parameters(recurse=False):
            full = f"{mod_name}.{p_name}" if mod_name else p_name
            if is_norm:
                kinds[full] = "norm" if p_name == "weight" else "bias"
            elif p_name.endswith("bias") or p_name in ("b1", "b2"):
                kinds[full] = "bias"
            else:
                kinds[full] = "normal"
    r_vision, r_speech = cfg["vision_lora"]["r"], cfg["speech_lora"]["r"]
    specs = []
    for native, t in model.state_dict().items():
        shape = list(t.shape)
        if native.endswith("global_invstd"):
            kind = "one"
        elif native.endswith("global_mean"):
            kind = "bias"
        else:
            kind = kinds[native]
        name = to_original_name("model." + native)
        if name.endswith(".base_layer.weight"):   # a LoRA target: its adapters sit beside it
            base = name[: -len(".base_layer.weight")]
            out_f, in_f = shape
            specs += [
                (base + ".base_layer.weight", shape, kind),
                (base + ".lora_A.vision.weight", [r_vision, in_f], "normal"),
                (base + ".lora_B.vision.weight", [out_f, r_vision], "normal"),
                (base + ".lora_A.speech.weight", [r_speech, in_f], "normal"),
                (base + ".lora_B.speech.weight", [out_f, r_speech], "normal"),
            ]
        else:
            specs.append((name, shape, kind))
    # checks: the converter's forward mapping gives back the native names, nothing is lost or duplicated
    native_names = {"model." + k for k in model.state_dict()}
    mapped = [to_native(n) for n, _, _ in specs]
    assert set(m for m in mapped if m is not None) == native_names, "name mapping does not round-trip"
    assert len(set(n for n, _, _ in specs)) == len(specs), "duplicate names"
    assert "lm_head.weight" not in {n for n, _, _ in specs}
    return specs


def check_counts(specs) -> dict:
    groups = {g: 0 for g in EXPECTED_GROUPS}
    for name, shape, _ in specs:
        groups[group_of(name)] += numel(shape)
    total = sum(groups.values())
    for g, want in EXPECTED_GROUPS.items():
        assert groups[g] == want, f"{g}: {groups[g]:,} parameters, reference says {want:,}"
    assert total == EXPECTED_PARAMETERS, f"total {total:,} != {EXPECTED_PARAMETERS:,}"
    return {"total": total, **groups}


# ---------------------------------------------------------------------------------------------- writing

# numel / write_sharded: shared with the Phi-4-mini generator (same shard size and init kinds).


def copy_tokenizer(src: Path, out: Path) -> bool:
    """Phi-4-mini tokenizer + the two multimodal placeholders 200010/200011 as added special tokens."""
    files = ["tokenizer.json", "tokenizer_config.json"]
    if not all((src / f).is_file() for f in files):
        print(f"warning: no tokenizer.json + tokenizer_config.json in {src}; folder written without a tokenizer",
              file=sys.stderr)
        return False
    tok = json.loads((src / "tokenizer.json").read_text())
    tcfg = json.loads((src / "tokenizer_config.json").read_text())
    added = {a["id"]: a for a in tok["added_tokens"]}
    decoder = tcfg.setdefault("added_tokens_decoder", {})
    for tid, content in IMAGE_TOKENS.items():
        entry = {"content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
                 "special": True}
        if tid in added:
            assert added[tid]["content"] == content, f"id {tid} is {added[tid]['content']!r} in {src}"
        else:
            added[tid] = {"id": tid, **entry}
        decoder.setdefault(str(tid), entry)
    tok["added_tokens"] = [added[k] for k in sorted(added)]
    tcfg["added_tokens_decoder"] = {k: decoder[k] for k in sorted(decoder, key=int)}
    (out / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False) + "\n")
    (out / "tokenizer_config.json").write_text(json.dumps(tcfg, indent=2, ensure_ascii=False) + "\n")
    for f, ref in (("added_tokens.json", "phi4-multimodal.added_tokens.json"),
                   ("special_tokens_map.json", "phi4-multimodal.special_tokens_map.json")):
        if (REFERENCE_CONFIGS / ref).is_file():
            shutil.copyfile(REFERENCE_CONFIGS / ref, out / f)
    print(f"tokenizer copied from {src} (+ {', '.join(IMAGE_TOKENS.values())})")
    return True


def write_bench_image(path: Path, width: int = 1024, height: int = 768) -> None:
    """Smooth synthetic RGB: gradients and low-frequency waves (no noise, so codecs and resizers behave)."""
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / (width - 1), y / (height - 1)
    r = 0.5 + 0.35 * np.sin(2 * math.pi * (1.3 * u + 0.4 * v)) + 0.15 * (u - 0.5)
    g = 0.5 + 0.30 * np.cos(2 * math.pi * (0.7 * v - 0.9 * u * v)) + 0.2 * (v - 0.5)
    b = 0.5 + 0.40 * np.sin(2 * math.pi * np.hypot(u - 0.6, v - 0.4) * 2.2)
    img = np.clip(np.stack([r, g, b], axis=-1) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    print(f"wrote {path} ({width}x{height})")


def write_extras(out: Path, cfg: dict, tokenizer_dir: Path) -> None:
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    gen_cfg = json.loads((REFERENCE_CONFIGS / "phi4-mini.generation_config.json").read_text())
    gen_cfg["eos_token_id"] = [200020, 199999]
    gen_cfg["transformers_version"] = cfg["transformers_version"]
    (out / "generation_config.json").write_text(json.dumps(gen_cfg, indent=2) + "\n")
    shutil.copyfile(REFERENCE_CONFIGS / "phi4-multimodal.preprocessor_config.json", out / "preprocessor_config.json")
    copy_tokenizer(tokenizer_dir, out)


def main() -> None:
    ap = argparse.ArgumentParser(description="random full-size Phi-4-multimodal folder (original layout)")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    ap.add_argument("--out", type=Path, help="default: bench-models/phi4mm-random-{dtype}")
    ap.add_argument("--image", type=Path, default=REPO / "bench-models" / "bench-1024x768.png",
                    help="where to write the 1024x768 test image ('' to skip)")
    ap.add_argument("--tokenizer-dir", type=Path, default=DEFAULT_TOKENIZER_DIR)
    ap.add_argument("--check", action="store_true", help="only build and check the tensor list")
    ap.add_argument("--extras-only", action="store_true", help="config, tokenizer and image; no weights")
    ap.add_argument("--seed", type=int, default=20250226)
    ap.add_argument("--std", type=float, default=0.02)
    args = ap.parse_args()

    torch_dtype, st_dtype, cfg_dtype, elem_size = DTYPES[args.dtype]
    cfg = original_config(cfg_dtype)
    specs = tensor_specs(cfg)
    counts = check_counts(specs)
    print("parameters: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + " (matches reference §9)")
    if args.check:
        for name, shape, kind in specs:
            print(name, shape, kind)
        return

    out = args.out or REPO / "bench-models" / f"phi4mm-random-{args.dtype}"
    out.mkdir(parents=True, exist_ok=True)
    write_extras(out, cfg, args.tokenizer_dir)
    if str(args.image):
        write_bench_image(args.image)
    if args.extras_only:
        return
    t0 = time.time()
    n_shards, total = write_sharded(out, specs, torch_dtype, st_dtype, elem_size, args.seed, args.std, counts["total"])
    (out / "RANDOM_WEIGHTS.txt").write_text(
        f"Random weights (N(0, {args.std}); norms and global_invstd 1 + N(0, {args.std}); biases N(0, "
        f"{args.std / 10:g}); seed {args.seed}; {args.dtype}) in the original Phi-4-multimodal (phi4mm) layout, "
        f"written by tools/bench/make_random_phi4mm.py. For speed benchmarks only.\n")
    print(f"{out}: {counts['total']:,} parameters, {total / 1e9:.3f} GB in {n_shards} shards, "
          f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
