#!/usr/bin/env python3
"""PyTorch/transformers CPU baseline for the Phi-4-multimodal encoders: one image through the vision tower and
30 s of audio through the conformer, with transformers' native Phi4Multimodal modules.

    .venv/bin/python tools/bench/bench_vision_torch.py                                  # f32, vision + audio
    .venv/bin/python tools/bench/bench_vision_torch.py --dtypes f32 bf16 -r 3
    .venv/bin/python tools/bench/bench_vision_torch.py --model bench-models/phi4mm-random-bf16   # same weights as PhiKit
    .venv/bin/python tools/bench/bench_vision_torch.py --skip-audio --native-forward

Vision (reference/phi4-multimodal.md §4-5): the image (default bench-models/bench-1024x768.png, written by
make_random_phi4mm.py) is preprocessed with tools/media/phi4mm_image_processor.py (the original processor:
1024x768 -> 3x2 crops + global = pixel tensor [7,3,448,448], patch masks [7,32,32], 1681 image tokens). The model
is transformers' Phi4MultimodalImageEmbedding (SigLIP tower Phi4MultimodalVisionModel + avg-pool + HD transform +
projector) built from the real vision config with attn_implementation="eager" (the native SDPA path can turn
causal, reference §11.5; eager adds the padded-patch mask only, i.e. bidirectional). Timed per repetition:
  * preprocess_seconds: the Python preprocessing (PIL resize/pad, normalize, bicubic global view, crops);
  * encode_seconds: Phi4MultimodalImageEmbedding.forward on the 7 crops -> [1681, 3072]: patch embedding, position
    buckets, the encoder up to hidden_states[-2] (26 of 27 layers: the features the model uses; PhiKit runs the same
    26), 2x2 avg-pool, HD transform with the learned separators, and the 1152->3072->3072 projector;
  * seconds = preprocess + encode (what `phi4 bench --image` times: preprocessing, SigLIP on every crop, projector).
With --native-forward the unmodified native path is timed as well (native_encode_seconds): its get_img_features
runs all 27 layers + post_layernorm + the pooling head and then takes hidden_states[-2], i.e. one layer and the
head more than needed. The two paths are checked to give the same features once (on the global crop).

Audio (§6-7): Phi4MultimodalAudioModel from the real audio config (hidden 1024, 24 blocks, 16 heads,
bias_max_distance 500, eager attention), input features [1, 2998, 80] (30 s: (480000-400)//160+1 frames; random
log-mel-like values, the feature extractor is not timed) -> [1, 375, 1024]; plus the speech projector
(1024->3072, GELU, 3072->3072) timed separately.

Random weights (transformers' init, seeded) unless --model DIR loads the encoders from a folder in the original
layout (make_random_phi4mm.py). torch.set_num_threads(--threads, default 2), one untimed warm-up run, then the
median of --repetitions. Prints one JSON object (peak RSS after the vision part and after everything).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
import transformers

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "media"))
sys.path.insert(0, str(ROOT / "tools" / "bench"))

DTYPES = {"bf16": torch.bfloat16, "f32": torch.float32}
IMAGE_PREFIX = "model.embed_tokens_extend.image_embed."
AUDIO_PREFIX = "model.embed_tokens_extend.audio_embed."


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def median_time(fn, repetitions: int) -> tuple[float, list[float]]:
    fn()  # warm-up, untimed
    samples = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), samples


def maybe_no_init(skip: bool):
    """Skip transformers' random init when the weights are loaded from a folder anyway (it is slow)."""
    import contextlib

    if not skip:
        return contextlib.nullcontext()
    try:
        from transformers.initialization import no_init_weights
    except ImportError:
        return contextlib.nullcontext()
    return no_init_weights()


def full_config(model_dir: Path | None):
    """Native Phi4MultimodalConfig: from the folder's original config.json (converted as transformers' converter
    does) or built from make_random_phi4mm's copy of the real original config."""
    import make_random_phi4mm as mk

    orig = json.loads((model_dir / "config.json").read_text()) if model_dir else mk.original_config("float32")
    cfg = mk.native_config(orig)
    assert cfg.audio_config.bias_max_distance == 500 and cfg.vision_config.num_hidden_layers == 27
    return cfg


def load_from_folder(module: torch.nn.Module, model_dir: Path, native_prefix: str) -> int:
    """Copy the tensors of `module` (native names under `native_prefix`) from an original-layout folder."""
    from safetensors import safe_open
    import make_random_phi4mm as mk

    index = json.loads((model_dir / "model.safetensors.index.json").read_text())["weight_map"]
    wanted = {}
    for orig in index:
        native = mk.to_native(orig)
        if native and native.startswith(native_prefix):
            wanted[native[len(native_prefix):]] = orig
    sd = module.state_dict()
    missing = set(sd) - set(wanted)
    assert not missing, f"not in {model_dir}: {sorted(missing)[:5]}"
    by_file: dict[str, list[str]] = {}
    for local in sd:
        by_file.setdefault(index[wanted[local]], []).append(local)
    with torch.no_grad():
        for fname, names in by_file.items():
            with safe_open(str(model_dir / fname), framework="pt") as f:
                for local in names:
                    sd[local].copy_(f.get_tensor(wanted[local]).to(sd[local].dtype))
    return len(sd)


# ---------------------------------------------------------------------------------------------- vision

def needed_layers_features(embed, img_embeds: torch.Tensor, attention_mask=None) -> torch.Tensor:
    """Phi4MultimodalImageEmbedding.get_img_features, but stopping at hidden_states[-2] (layer 26 of 27) instead
    of running the last layer, post_layernorm and the pooling head whose outputs are discarded."""
    from transformers.masking_utils import create_bidirectional_mask

    vm = embed.img_processor
    b = img_embeds.size(0)
    if attention_mask is None:
        attention_mask = torch.ones(b, img_embeds.size(2) // vm.config.patch_size,
                                    img_embeds.size(3) // vm.config.patch_size, dtype=torch.bool)
    h = vm.embeddings(pixel_values=img_embeds, patch_attention_mask=attention_mask)
    mask = create_bidirectional_mask(config=vm.config, inputs_embeds=h, attention_mask=attention_mask.view(b, -1))
    n = len(vm.encoder.layers) + 1 + embed.layer_idx if embed.layer_idx < 0 else embed.layer_idx
    for layer in vm.encoder.layers[:n]:
        h = layer(h, mask)
    width = int(h.size(1) ** 0.5)
    f = h.view(-1, width, width, h.size(-1)).permute(0, 3, 1, 2)
    f = embed.image_token_compression(f).permute(0, 2, 3, 1)
    return f.reshape(-1, f.size(1) * f.size(2), f.size(-1))


def build_embedding(args, cfg, sub_config, cls, name: str, dtype):
    """The image or audio embedding module in eager attention (bidirectional, as the original), seeded random or
    loaded from --model's `model.embed_tokens_extend.<name>.*` tensors, in `dtype`; and the seconds it took."""
    sub_config._attn_implementation = "eager"
    cfg._attn_implementation = "eager"
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    with maybe_no_init(args.model is not None):
        module = cls(cfg).eval()
    if args.model:
        load_from_folder(module, args.model, f"model.embed_tokens_extend.{name}.")
    return module.to(dtype), time.perf_counter() - t0


def bench_vision(args, cfg, dtype_name: str) -> dict:
    from PIL import Image
    from transformers.models.phi4_multimodal.modeling_phi4_multimodal import Phi4MultimodalImageEmbedding
    import phi4mm_image_processor as proc

    dtype = DTYPES[dtype_name]
    embed, build_s = build_embedding(args, cfg, cfg.vision_config, Phi4MultimodalImageEmbedding, "image_embed", dtype)
    assert embed.img_processor.config._attn_implementation == "eager"

    image = Image.open(args.image)
    image.load()

    def preprocess():
        return proc.preprocess(image, dynamic_hd=36)

    p = preprocess()
    pixels, masks = p["pixel_values"], p["attention_mask"]
    H_t, W_t = p["image_size"]
    n_tokens = p["num_img_tokens"]
    input_ids = torch.full((1, n_tokens), cfg.vision_config.image_token_id, dtype=torch.long)
    inputs_embeds = torch.zeros(1, n_tokens, cfg.hidden_size, dtype=dtype)
    image_sizes = torch.tensor([[H_t, W_t]])

    def encode(pix, msk):
        return embed(input_ids, inputs_embeds, pix[None], image_sizes=image_sizes, image_attention_mask=msk[None])

    native_get = embed.get_img_features
    needed_get = lambda img, attention_mask=None: needed_layers_features(embed, img, attention_mask)  # noqa: E731

    with torch.inference_mode():
        # once: the shortened path gives the native features (global crop only, to keep it cheap)
        g, gm = pixels[:1].to(dtype), masks[:1].bool()
        diff = (native_get(g, gm) - needed_get(g, gm)).abs().max().item()
        assert diff == 0.0, f"shortened vision path differs from the native one by {diff}"

        embed.get_img_features = needed_get
        out = encode(pixels, masks)
        assert out.shape == (1, n_tokens, cfg.hidden_size), out.shape
        pre_s, pre_samples = median_time(preprocess, args.repetitions)
        enc_s, enc_samples = median_time(lambda: encode(pixels, masks), args.repetitions)
        res = {
            "dtype": dtype_name,
            "seconds": pre_s + enc_s,
            "preprocess_seconds": pre_s,
            "encode_seconds": enc_s,
            "encode_samples": enc_samples,
            "preprocess_samples": pre_samples,
            "crops": int(pixels.shape[0]),
            "image_tokens": n_tokens,
            "pixel_values_shape": list(pixels.shape),
            "layers_run": len(embed.img_processor.encoder.layers) + 1 + embed.layer_idx,
            "build_seconds": build_s,
        }
        if args.native_forward:
            embed.get_img_features = native_get
            nat_s, nat_samples = median_time(lambda: encode(pixels, masks), args.repetitions)
            res["native_encode_seconds"] = nat_s
            res["native_encode_samples"] = nat_samples
    res["peak_rss_bytes"] = peak_rss_bytes()
    del embed
    return res


# ---------------------------------------------------------------------------------------------- audio

def bench_audio(args, cfg, dtype_name: str) -> dict:
    from transformers.models.phi4_multimodal.modeling_phi4_multimodal import Phi4MultimodalAudioEmbedding

    dtype = DTYPES[dtype_name]
    audio, build_s = build_embedding(args, cfg, cfg.audio_config, Phi4MultimodalAudioEmbedding, "audio_embed", dtype)
    enc = audio.encoder

    samples = int(args.audio_seconds * 16000)
    frames = (samples - 400) // 160 + 1
    g = torch.Generator().manual_seed(args.seed)
    feats = (torch.randn(1, frames, 80, generator=g) * 2.0 + 8.0).to(dtype)  # log-mel-like magnitudes

    def project(h):
        return audio.down_proj_for_speech(torch.nn.functional.gelu(audio.up_proj_for_speech(h)))

    with torch.inference_mode():
        hidden = enc(feats, None)
        assert hidden.shape == (1, -(-frames // 8), cfg.audio_config.hidden_size), hidden.shape
        enc_s, enc_samples = median_time(lambda: enc(feats, None), args.repetitions)
        proj_s, _ = median_time(lambda: project(hidden), args.repetitions)
    res = {
        "dtype": dtype_name,
        "seconds": enc_s,
        "encoder_seconds": enc_s,
        "encoder_samples": enc_samples,
        "projector_seconds": proj_s,
        "audio_seconds": args.audio_seconds,
        "features_shape": list(feats.shape),
        "audio_tokens": int(hidden.shape[1]),
        "build_seconds": build_s,
        "peak_rss_bytes": peak_rss_bytes(),
    }
    del audio
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", type=Path, default=ROOT / "bench-models" / "bench-1024x768.png")
    ap.add_argument("--model", type=Path, help="load the encoders from this original-layout folder")
    ap.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["f32"])
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-r", "--repetitions", type=int, default=3)
    ap.add_argument("--audio-seconds", type=float, default=30.0)
    ap.add_argument("--audio-dtypes", nargs="+", choices=sorted(DTYPES), default=["f32"])
    ap.add_argument("--skip-vision", action="store_true")
    ap.add_argument("--skip-audio", action="store_true")
    ap.add_argument("--native-forward", action="store_true",
                    help="also time the unmodified native vision path (27 layers + post-LN + head)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    if not args.skip_vision and not args.image.is_file():
        sys.exit(f"{args.image} is missing: run tools/bench/make_random_phi4mm.py (it writes the bench image)")
    cfg = full_config(args.model)

    result = {"engine": "pytorch", "threads": args.threads, "repetitions": args.repetitions}
    if not args.skip_vision:
        result["vision"] = [bench_vision(args, cfg, d) for d in args.dtypes]
        print(json.dumps({"progress": "vision", "vision": result["vision"]}), file=sys.stderr, flush=True)
    if not args.skip_audio:
        result["audio"] = [bench_audio(args, cfg, d) for d in args.audio_dtypes]
    result.update({
        "peak_rss_bytes": peak_rss_bytes(),
        "image": str(args.image),
        "model": str(args.model) if args.model else "random init (transformers, seeded)",
        "attn_implementation": "eager",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpu": platform.processor() or platform.machine(),
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
