#!/usr/bin/env python3
"""Convert a Phi-4-mini (Phi3ForCausalLM) Hugging Face folder to GGUF the way llama.cpp's
convert_hf_to_gguf.py does, then quantize it with llama.cpp's own quantizer (llama-cpp-python).

    .venv/bin/python tools/llamacpp/make_phi4mini_gguf.py                        # bf16 GGUF + Q4_0, Q4_K_M, Q8_0
    .venv/bin/python tools/llamacpp/make_phi4mini_gguf.py --quant Q4_0           # only that quant (bf16 reused if present)
    .venv/bin/python tools/llamacpp/make_phi4mini_gguf.py --no-quant --outtype f16
    .venv/bin/python tools/llamacpp/make_phi4mini_gguf.py --check bench-models/phi4mini-random-Q4_0.gguf

Outputs (default): bench-models/phi4mini-random-{bf16,Q4_0,Q4_K_M,Q8_0}.gguf (bench-models/ is gitignored).

What this reproduces (llama.cpp as vendored in llama-cpp-python 0.3.36, ggml commit 0c1e570:
conversion/base.py TextModel/ModelBase + conversion/phi.py Phi3MiniModel, gguf-py 0.19.0):

* arch "phi3". Tensors are renamed with gguf's TensorNameMap (the same table the script uses):
    model.embed_tokens.weight                   -> token_embd.weight        [V, H]     (BF16)
    model.layers.N.input_layernorm.weight       -> blk.N.attn_norm.weight   [H]        (F32)
    model.layers.N.self_attn.qkv_proj.weight    -> blk.N.attn_qkv.weight    [q|k|v, H] (BF16, fused as in HF)
    model.layers.N.self_attn.o_proj.weight      -> blk.N.attn_output.weight
    model.layers.N.post_attention_layernorm.w   -> blk.N.ffn_norm.weight    (F32)
    model.layers.N.mlp.gate_up_proj.weight      -> blk.N.ffn_up.weight      [2*I, H] (BF16; FUSED gate|up, gate first;
                                                                            llama.cpp runs it as LLM_FFN_SWIGLU: silu(first half) * second half)
    model.layers.N.mlp.down_proj.weight         -> blk.N.ffn_down.weight
    model.norm.weight                           -> output_norm.weight       (F32)
  No output.weight is written when the embeddings are tied (llama.cpp then reuses token_embd).
  rope_factors_long.weight / rope_factors_short.weight ([rope_dims/2] F32) come first (generate_extra_tensors).
  Tensor order: extra tensors, then each safetensors shard (sorted shard names) with its tensors sorted by name.
  Type rule (prepare_tensors): 1-D tensors and *_norm.weight -> F32; everything else -> the output type.
* KV metadata, in the script's order: general.architecture; phi3.rope.scaling.attn_factor (sqrt(1+ln(s)/ln(orig)),
  s = max_pos/orig, for longrope); general.type, general.name (+ size_label etc. via gguf.Metadata);
  Phi3MiniModel.set_gguf_parameters (context_length, rope.scaling.original_context_length, embedding_length,
  feed_forward_length, block_count, attention.head_count, attention.head_count_kv,
  attention.layer_norm_rms_epsilon, rope.dimension_count = int(partial_rotary_factor*H)//n_head,
  rope.freq_base, general.file_type, attention.sliding_window); general.quantization_version; then the vocab:
  tokenizer.ggml.model "gpt2", tokenizer.ggml.pre (from the chkhsh of the tokenizer; "gpt-4o" for o200k),
  tokens (len vocab_size; ids the tokenizer lacks become "[PAD{i}]" with type UNUSED), token_type (NORMAL=1,
  CONTROL=3 for special added tokens or ones that look like <|...|>, USER_DEFINED=4, UNUSED=5), then
  gguf.SpecialVocab(load_merges=True): merges, bos/eos/unk/pad ids, add_bos/add_eos flags, chat_template.

The source tensors are streamed (one tensor in memory at a time). bf16 -> BF16 copies the raw bits, which equals
the script's bf16 -> f32 -> gguf.quants BF16 round trip bit for bit (exact for values that were bf16 already).
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SRC = REPO / "bench-models" / "phi4mini-random-bf16"
DEFAULT_OUT_DIR = REPO / "bench-models"

# chkhsh of tokenizer.encode(CHKTXT) -> tokenizer.ggml.pre, from get_vocab_base_pre (only the entries that matter
# for the Phi family; an unknown hash is an error, as in the script).
CHKTXT = '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ 🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ ------======= нещо на Български \'\'\'\'\'\'```````""""......!!!!!!?????? I\'ve been \'told he\'s there, \'RE you sure? \'M not sure I\'ll make it, \'D you like some tea? We\'Ve a\'lL'
KNOWN_PRE = {
    "ccc2ef013c104be7bae2965776d611e1d7a8a2a9c547dd93a682c9a9fc80352e": "gpt-4o",  # Xenova/gpt-4o
    "fcace8b9cac38ce847670c970cd5892031a753a1ef381abd1d9af00f713da085": "phi-2",
}

QUANT_FTYPES = {  # name -> llama_ftype (llama.h)
    "Q4_0": 2,
    "Q8_0": 7,
    "Q4_K_M": 15,
    "Q4_K_S": 14,
    "Q5_K_M": 17,
    "Q6_K": 18,
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- conversion

def rope_parameters(hparams: dict) -> dict:
    """TextModel.__init__: rope_parameters (or rope_scaling) with the global params mirrored in."""
    rp = dict(hparams.get("rope_parameters", hparams.get("rope_scaling")) or {})
    def find(keys):
        return next((hparams[k] for k in keys if k in hparams), None)
    rope_theta = find(["global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base"])
    prf = find(["partial_rotary_factor", "rope_pct", "rope_percent"])
    orig = find(["original_max_position_embeddings"])
    if "full_attention" not in rp and "sliding_attention" not in rp:
        if "rope_theta" not in rp and rope_theta is not None:
            rp["rope_theta"] = rope_theta
        if "rope_type" not in rp and rp.get("type") is not None:
            rp["rope_type"] = rp["type"]
        if "partial_rotary_factor" not in rp and prf is not None:
            rp["partial_rotary_factor"] = prf
        if "original_max_position_embeddings" not in rp and orig is not None:
            rp["original_max_position_embeddings"] = orig
    return rp


def vocab_from_tokenizer(src: Path, vocab_size: int):
    """TextModel.get_vocab_base + get_vocab_base_pre."""
    import gguf
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(src)
    vocab = tok.vocab
    assert max(vocab.values()) < vocab_size
    chkhsh = hashlib.sha256(str(tok.encode(CHKTXT)).encode()).hexdigest()
    if chkhsh not in KNOWN_PRE:
        raise SystemExit(f"BPE pre-tokenizer not recognized (chkhsh {chkhsh}); llama.cpp's converter would refuse too")
    tokpre = KNOWN_PRE[chkhsh]

    reverse = {i: t for t, i in vocab.items()}
    added = tok.get_added_vocab()
    decoder = tok.added_tokens_decoder
    tokens: list[str] = []
    types: list[int] = []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        t = reverse[i]
        if t in added:
            if not decoder[i].normalized:
                t = tok.decode(tok.encode(t, add_special_tokens=False))
            looks_special = (t in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
                             or (t.startswith("<|") and t.endswith("|>"))
                             or (t.startswith("<｜") and t.endswith("｜>"))
                             or (t.startswith("<unused") and t.endswith(">")))
            if decoder[i].special or looks_special:
                types.append(gguf.TokenType.CONTROL)
            else:
                t = t.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(t)
    return tokens, types, tokpre


def source_tensors(src: Path):
    """ModelBase.index_tensors: shards from the index's weight_map (sorted), tensors sorted by name per shard."""
    import gguf
    index = src / "model.safetensors.index.json"
    if index.is_file():
        parts = sorted(dict.fromkeys(json.loads(index.read_text())["weight_map"].values()))
    else:
        parts = sorted(p.name for p in src.iterdir() if p.name.startswith("model") and p.name.endswith(".safetensors"))
    out = []
    for part in parts:
        st = gguf.utility.SafetensorsLocal(src / part)
        for name, lt in st.tensors.items():
            out.append((name, lt))
    return out


def load_f32_or_raw(lt, out_qtype):
    """Return (ndarray, raw_dtype) for the writer. BF16 source + BF16 target: raw bits (exact)."""
    import gguf
    buf = lt.mmap_bytes()
    if lt.dtype == "BF16" and out_qtype == gguf.GGMLQuantizationType.BF16:
        return np.frombuffer(buf, dtype=np.uint16).reshape(lt.shape).copy(), gguf.GGMLQuantizationType.BF16
    if lt.dtype == "BF16":
        arr = (np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(lt.shape)
    elif lt.dtype == "F16":
        arr = np.frombuffer(buf, dtype=np.float16).astype(np.float32).reshape(lt.shape)
    elif lt.dtype == "F32":
        arr = np.frombuffer(buf, dtype=np.float32).reshape(lt.shape)
    else:
        raise SystemExit(f"unsupported source dtype {lt.dtype}")
    if out_qtype == gguf.GGMLQuantizationType.F32:
        return np.ascontiguousarray(arr, dtype=np.float32), None
    if out_qtype == gguf.GGMLQuantizationType.F16:
        return arr.astype(np.float16), None
    # BF16 from f16/f32: gguf's own rounding (round-to-nearest-even, NaN kept quiet), row chunks to bound memory
    rows = arr.reshape(-1, arr.shape[-1])
    res = np.empty(rows.shape, dtype=np.uint16)
    step = max(1, (64 << 20) // max(1, rows.shape[1] * 4))
    for s in range(0, rows.shape[0], step):
        q = gguf.quants.quantize(np.ascontiguousarray(rows[s:s + step]), gguf.GGMLQuantizationType.BF16)
        res[s:s + step] = q.view(np.uint16).reshape(-1, rows.shape[1])
    return res.reshape(arr.shape), gguf.GGMLQuantizationType.BF16


def convert(src: Path, out: Path, outtype: str) -> None:
    import gguf

    hp = json.loads((src / "config.json").read_text())
    if hp.get("architectures", [None])[0] not in ("Phi3ForCausalLM",):
        raise SystemExit(f"expected Phi3ForCausalLM, got {hp.get('architectures')}")
    ftype = {"bf16": gguf.LlamaFileType.MOSTLY_BF16, "f16": gguf.LlamaFileType.MOSTLY_F16,
             "f32": gguf.LlamaFileType.ALL_F32}[outtype]
    out_qtype = {"bf16": gguf.GGMLQuantizationType.BF16, "f16": gguf.GGMLQuantizationType.F16,
                 "f32": gguf.GGMLQuantizationType.F32}[outtype]
    arch = gguf.MODEL_ARCH.PHI3
    rp = rope_parameters(hp)
    n_embd, n_head = hp["hidden_size"], hp["num_attention_heads"]
    n_layer = hp["num_hidden_layers"]
    max_pos = hp.get("n_positions", hp.get("max_position_embeddings"))
    orig_max = rp["original_max_position_embeddings"]
    rope_dims = int(rp.get("partial_rotary_factor", 1.0) * n_embd) // n_head
    tmap = gguf.get_tensor_name_map(arch, n_layer)

    w = gguf.GGUFWriter(path=None, arch=gguf.MODEL_ARCH_NAMES[arch])   # adds general.architecture

    # ---- prepare_tensors: generate_extra_tensors (Phi3MiniModel) then the checkpoint's tensors
    plan = []  # (new_name, loader, shape, raw_dtype/np dtype)
    long_f, short_f = rp.get("long_factor"), rp.get("short_factor")
    if long_f:
        scale = max_pos / orig_max
        rtype = rp.get("rope_type", "").lower()
        if rtype in ("su", "longrope"):
            attn_factor = math.sqrt(1 + math.log(scale) / math.log(orig_max)) if scale > 1.0 else 1.0
        elif rtype == "yarn":
            attn_factor = 0.1 * math.log(scale) + 1.0 if scale > 1.0 else 1.0
        else:
            raise SystemExit(f"rope scaling type {rtype!r} not supported")
        w.add_rope_scaling_attn_factors(attn_factor)
        if short_f is None or len(long_f) != len(short_f) or len(long_f) != rope_dims / 2:
            raise SystemExit(f"rope factors must have {rope_dims // 2} entries")
        for key, fac in ((gguf.MODEL_TENSOR.ROPE_FACTORS_LONG, long_f), (gguf.MODEL_TENSOR.ROPE_FACTORS_SHORT, short_f)):
            name = gguf.TENSOR_NAMES[key] + ".weight"
            arr = np.asarray(fac, dtype=np.float32)  # torch.tensor(float32) -> F32 (1-D)
            plan.append((name, (lambda a=arr: (a, None)), arr.shape))

    for name, lt in source_tensors(src):
        if name.endswith((".attention.masked_bias", ".attention.bias", ".rotary_emb.inv_freq")):
            continue
        new_name = tmap.get_name(key=name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise SystemExit(f"can not map tensor {name!r}")
        n_dims = len(lt.shape)
        if n_dims <= 1 or new_name.endswith("_norm.weight") or new_name[-7:] not in (".weight", ".lora_a", ".lora_b"):
            qt = gguf.GGMLQuantizationType.F32
        else:
            qt = out_qtype
        plan.append((new_name, (lambda lt=lt, qt=qt: load_f32_or_raw(lt, qt)), tuple(lt.shape), qt))

    # tensor infos (shape/type known without loading the data)
    final = []
    for item in plan:
        if len(item) == 3:
            name, loader, shape = item
            arr, _ = loader()
            w.add_tensor_info(name, arr.shape, arr.dtype, arr.nbytes)
            final.append((name, loader))
        else:
            name, loader, shape, qt = item
            if qt == gguf.GGMLQuantizationType.F32:
                w.add_tensor_info(name, shape, np.dtype(np.float32), int(np.prod(shape)) * 4)
            elif qt == gguf.GGMLQuantizationType.F16:
                w.add_tensor_info(name, shape, np.dtype(np.float16), int(np.prod(shape)) * 2)
            else:
                w.add_tensor_info(name, shape, np.dtype(np.uint16), int(np.prod(shape)) * 2, raw_dtype=qt)
            final.append((name, loader))

    # ---- prepare_metadata (ModelBase then TextModel)
    total, shared, expert, n_exp = w.get_total_parameter_count()
    md = gguf.Metadata.load(None, src, None, total)
    if md.name is None:
        md.name = src.name
    if md.size_label is None and total > 0:
        md.size_label = gguf.size_label(total, shared, expert, n_exp)
    w.add_type(gguf.GGUFType.MODEL)
    md.set_gguf_meta_model(w)
    # Phi3MiniModel.set_gguf_parameters
    w.add_context_length(max_pos)
    w.add_rope_scaling_orig_ctx_len(orig_max)
    w.add_embedding_length(n_embd)
    w.add_feed_forward_length(hp["intermediate_size"])
    w.add_block_count(n_layer)
    w.add_head_count(n_head)
    w.add_head_count_kv(hp.get("num_key_value_heads", hp.get("n_head_kv")))
    w.add_layer_norm_rms_eps(hp["rms_norm_eps"])
    w.add_rope_dimension_count(rope_dims)
    w.add_rope_freq_base(rp.get("full_attention", rp)["rope_theta"])
    w.add_file_type(ftype)
    w.add_sliding_window(hp.get("sliding_window") or 0)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    # TextModel.prepare_metadata -> Phi3MiniModel.set_vocab -> _set_vocab_gpt2 (GPT2Tokenizer)
    tcfg = json.loads((src / "tokenizer_config.json").read_text())
    if tcfg.get("tokenizer_class") != "GPT2Tokenizer":
        raise SystemExit("only the GPT2Tokenizer (Phi-4) vocab path is implemented")
    tokens, types, tokpre = vocab_from_tokenizer(src, hp.get("vocab_size"))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(tokpre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    gguf.SpecialVocab(src, load_merges=True).add_to_gguf(w)

    # ---- write
    tmp = out.with_name(out.name + ".part")
    w.write_header_to_file(path=tmp)
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    t0 = time.time()
    for i, (name, loader) in enumerate(final):
        arr, _ = loader()
        w.write_tensor_data(arr)
        if i % 40 == 0:
            log(f"  [{i + 1}/{len(final)}] {name} {arr.shape} {time.time() - t0:.0f}s")
    w.close()
    os.replace(tmp, out)
    log(f"wrote {out} ({out.stat().st_size / 1e9:.3f} GB) in {time.time() - t0:.0f}s")


# --------------------------------------------------------------------------------------------- quantize / check

def quantize(inp: Path, out: Path, qname: str, nthread: int) -> None:
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_FTYPES[qname]
    params.nthread = nthread
    tmp = out.with_name(out.name + ".part")
    t0 = time.time()
    rc = llama_cpp.llama_model_quantize(str(inp).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize({qname}) failed: {rc}")
    os.replace(tmp, out)
    log(f"quantized {out.name} ({out.stat().st_size / 1e9:.3f} GB) in {time.time() - t0:.0f}s")


def check(path: Path, n_gen: int = 8, n_threads: int = 2) -> dict:
    """Load with llama.cpp (mmap), decode a short chat prompt, greedy-generate n_gen tokens from the logits."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import llcpp
    llcpp.quiet_logs()
    model = llcpp.load_model(path)
    ctx = llcpp.new_context(model, n_ctx=256, n_batch=256, n_ubatch=256, n_threads=n_threads)
    nv = llcpp.n_vocab(model)
    toks = llcpp.tokenize(model, "<|user|>Hello, who are you?<|end|><|assistant|>", add_special=True,
                          parse_special=True)
    batch = llcpp.Batch(256)
    batch.fill(toks, 0)
    llcpp.decode(ctx, batch)
    pos = len(toks)
    gen, stats = [], []
    for _ in range(n_gen):
        lg = llcpp.logits_last(ctx, nv)
        stats.append((float(lg.std()), bool(np.isfinite(lg).all())))
        nxt = int(np.argmax(lg))
        gen.append(nxt)
        batch.fill([nxt], pos)
        llcpp.decode(ctx, batch)
        pos += 1
    res = {"file": path.name, "prompt_ids": toks, "generated_ids": gen,
           "text": b"".join(llcpp.token_piece(model, t) for t in gen).decode("utf-8", "replace"),
           "logit_std_first": round(stats[0][0], 4), "all_finite": all(f for _, f in stats)}
    batch.free()
    llcpp.free(ctx, model)
    log(json.dumps(res, ensure_ascii=False))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC, help="HF folder (default %(default)s)")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    ap.add_argument("--stem", default="phi4mini-random", help="output file stem (default %(default)s)")
    ap.add_argument("--outtype", choices=["bf16", "f16", "f32"], default="bf16")
    ap.add_argument("--quant", action="append", choices=sorted(QUANT_FTYPES),
                    help="quant types to make (repeatable; default Q4_0, Q4_K_M, Q8_0)")
    ap.add_argument("--no-quant", action="store_true")
    ap.add_argument("--force", action="store_true", help="rewrite outputs that already exist")
    ap.add_argument("--threads", type=int, default=2, help="quantizer / check threads")
    ap.add_argument("--no-check", action="store_true", help="skip the load-and-generate check")
    ap.add_argument("--check", type=Path, nargs="*", help="only run the load-and-generate check on these files")
    args = ap.parse_args()

    if args.check:
        for p in args.check:
            check(p, n_threads=args.threads)
        return

    base = args.out_dir / f"{args.stem}-{args.outtype}.gguf"
    if base.exists() and not args.force:
        log(f"{base} exists (use --force to rewrite)")
    else:
        convert(args.src, base, args.outtype)
    made = [base]
    if not args.no_quant:
        for q in args.quant or ["Q4_0", "Q4_K_M", "Q8_0"]:
            out = args.out_dir / f"{args.stem}-{q}.gguf"
            if out.exists() and not args.force:
                log(f"{out} exists (use --force to rewrite)")
            else:
                quantize(base, out, q, args.threads)
            made.append(out)
    if not args.no_check:
        for p in made:
            check(p, n_threads=args.threads)


if __name__ == "__main__":
    main()
