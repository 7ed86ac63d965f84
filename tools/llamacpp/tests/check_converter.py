#!/usr/bin/env python3
"""Check that make_phi4mini_gguf.py writes the same bytes as llama.cpp's own convert_hf_to_gguf.py.

Needs the llama.cpp sources vendored in the llama-cpp-python sdist (the exact commit the bindings were built from):

    .venv/bin/pip install scikit-build-core cmake ninja          # lets pip read the sdist's metadata without a build
    .venv/bin/pip download --no-deps --no-build-isolation --no-binary llama-cpp-python llama-cpp-python==0.3.36 -d /tmp/llsrc
    tar xzf /tmp/llsrc/llama_cpp_python-0.3.36.tar.gz -C /tmp/llsrc
    .venv/bin/python tools/llamacpp/tests/check_converter.py --llama-cpp /tmp/llsrc/llama_cpp_python-0.3.36/vendor/llama.cpp

By default it builds a tiny random Phi3ForCausalLM folder (2 layers, width 64, the real Phi-4-mini tokenizer and
rope-factor layout, float32 weights with NaN/denormal/huge edge values) and compares --outtype bf16, f16 and f32
byte for byte. --src DIR compares a real folder instead (bf16 only unless --outtypes is given; needs ~2x its size
of free disk). Prints "N passed, M failed".
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def tiny_folder(dst: Path, tokenizer_dir: Path) -> None:
    import torch
    from safetensors.torch import save_file
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tokenizer_dir / f, dst / f)
    cfg = json.loads((REPO / "bench-models" / "phi4mini-random-bf16" / "config.json").read_text()) \
        if (REPO / "bench-models" / "phi4mini-random-bf16" / "config.json").is_file() else \
        json.loads((REPO.parent / "shared" / "reference" / "configs" / "phi4-mini.config.json").read_text())
    cfg.update(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, intermediate_size=96,
               num_hidden_layers=2, torch_dtype="float32")
    rs = cfg["rope_scaling"]
    rs["long_factor"], rs["short_factor"] = rs["long_factor"][:6], [1.0] * 6   # rope dims int(.75*64)//4 = 12
    (dst / "config.json").write_text(json.dumps(cfg, indent=2))
    g = torch.Generator().manual_seed(0)
    H, I, V = 64, 96, cfg["vocab_size"]
    t = {"model.embed_tokens.weight": torch.randn(V, H, generator=g) * 0.02,
         "model.norm.weight": 1 + torch.randn(H, generator=g) * 0.02}
    for i in range(2):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + torch.randn(H, generator=g) * 0.02
        t[p + "post_attention_layernorm.weight"] = 1 + torch.randn(H, generator=g) * 0.02
        t[p + "self_attn.qkv_proj.weight"] = torch.randn(64 + 2 * 32, H, generator=g) * 0.02
        t[p + "self_attn.o_proj.weight"] = torch.randn(H, H, generator=g) * 0.02
        t[p + "mlp.gate_up_proj.weight"] = torch.randn(2 * I, H, generator=g) * 0.02
        t[p + "mlp.down_proj.weight"] = torch.randn(H, I, generator=g) * 0.02
    t["model.layers.0.mlp.down_proj.weight"][0, :4] = torch.tensor([float("nan"), 1e-40, 3.0e38, -0.0])
    save_file(t, str(dst / "model.safetensors"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-cpp", type=Path, required=True, help="llama.cpp source dir with convert_hf_to_gguf.py")
    ap.add_argument("--src", type=Path, help="HF folder to convert (default: a tiny generated one)")
    ap.add_argument("--outtypes", nargs="+", default=None)
    ap.add_argument("--tokenizer-dir", type=Path, default=None,
                    help="folder with tokenizer.json + tokenizer_config.json (default: Tests/PhiTokenizerTests/Fixtures)")
    a = ap.parse_args()
    if a.tokenizer_dir is None:
        a.tokenizer_dir = next(p for p in (REPO / "Tests" / "PhiTokenizerTests" / "Fixtures",
                                           REPO / "bench-models" / "phi4mini-random-bf16")
                               if (p / "tokenizer.json").is_file())
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        src = a.src
        if src is None:
            src = d / "tiny"
            src.mkdir()
            tiny_folder(src, a.tokenizer_dir)
        outtypes = a.outtypes or (["bf16"] if a.src else ["bf16", "f16", "f32"])
        for ot in outtypes:
            mine = d / f"mine-{ot}.gguf"
            official = d / f"official-{ot}.gguf"
            subprocess.run([sys.executable, str(HERE.parent / "make_phi4mini_gguf.py"), "--src", str(src),
                            "--out-dir", str(d), "--stem", "mine", "--outtype", ot, "--no-quant", "--no-check",
                            "--force"], check=True, capture_output=True)
            subprocess.run([sys.executable, "convert_hf_to_gguf.py", str(src), "--outtype", ot, "--outfile",
                            str(official)], check=True, capture_output=True, cwd=a.llama_cpp)
            same = subprocess.run(["cmp", "-s", str(mine), str(official)]).returncode == 0
            print(f"{'ok' if same else 'FAIL'} {ot}: {mine.stat().st_size} vs {official.stat().st_size} bytes")
            passed += same
            failed += not same
            mine.unlink()
            official.unlink()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
