"""llama-perplexity's measurement through llama.cpp's C API, to check `phi4 perplexity` on the same GGUF and text.

Same procedure as llama.cpp's tools/perplexity (perplexity()): tokenize the whole text with add_special=True,
parse_special=False (BOS only when the vocabulary adds one); n_chunk = len(tokens) // n_ctx non-overlapping
windows; each window decoded from an empty KV cache with its first token replaced by BOS when the vocabulary adds
one; the logits at positions n_ctx/2 … n_ctx-2 score the next token; PPL = exp(mean NLL) and
± PPL·sqrt((E[nll²] − E[nll]²)/(N − 1)).

    .venv/bin/python tools/llamacpp/perplexity_llamacpp.py --model M.gguf --file TEXT [--ctx 512] [--chunks N] \
        [--compare REF.gguf]
    .venv/bin/python tools/llamacpp/perplexity_llamacpp.py --requantize M.gguf --type q8_0 --out M-Q8_0.gguf

Prints one JSON object (perplexity, perplexity_error, scored_tokens, chunks, text_tokens, engine settings). With
--compare, the same windows also run through REF and, as `phi4 perplexity --compare` does, KL(REF ‖ model) per
scored token (mean, median, 99th percentile, max), top-1 agreement and REF's perplexity are added.
--requantize writes a copy of a GGUF in another type with llama.cpp's own quantizer (llama_model_quantize,
allow_requantize: quantized tensors are dequantized first; f32 = every tensor to F32), no importance matrix.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llcpp  # noqa: E402
import llama_cpp.llama_cpp as C  # noqa: E402


FTYPES = {"f32": C.LLAMA_FTYPE_ALL_F32, "q8_0": C.LLAMA_FTYPE_MOSTLY_Q8_0, "q6_k": C.LLAMA_FTYPE_MOSTLY_Q6_K,
          "q4_k_m": C.LLAMA_FTYPE_MOSTLY_Q4_K_M, "q4_0": C.LLAMA_FTYPE_MOSTLY_Q4_0}


def requantize(src: str, ftype: str, out: str, threads: int) -> None:
    llcpp.backend_init()
    p = C.llama_model_quantize_default_params()
    p.nthread = threads
    p.ftype = FTYPES[ftype]
    p.allow_requantize = True
    rc = C.llama_model_quantize(src.encode(), out.encode(), ctypes.byref(p))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize returned {rc}")


def log_softmax(lg: np.ndarray) -> np.ndarray:
    x = lg.astype(np.float64)
    m = x.max()
    return x - (m + math.log(np.exp(x - m).sum()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--file")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--chunks", type=int, default=None)
    ap.add_argument("--compare", help="reference GGUF (same vocabulary)")
    ap.add_argument("--requantize", metavar="GGUF")
    ap.add_argument("--type", choices=sorted(FTYPES))
    ap.add_argument("--out")
    ap.add_argument("-t", "--threads", type=int, default=2)
    args = ap.parse_args()
    if args.requantize:
        if not (args.type and args.out):
            ap.error("--requantize needs --type and --out")
        requantize(args.requantize, args.type, args.out, args.threads)
        return
    if not (args.model and args.file):
        ap.error("--model and --file are required")

    llcpp.quiet_logs(capture=True)
    model = llcpp.load_model(args.model)
    n_ctx = args.ctx
    ctx = llcpp.new_context(model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, n_threads=args.threads)
    nv = llcpp.n_vocab(model)
    ref = ref_ctx = None
    if args.compare:
        ref = llcpp.load_model(args.compare)
        ref_ctx = llcpp.new_context(ref, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, n_threads=args.threads)
        if llcpp.n_vocab(ref) != nv:
            raise SystemExit("the two models have different vocabularies")
    vocab = C.llama_model_get_vocab(model)
    text = Path(args.file).read_text(encoding="utf-8")
    tokens = llcpp.tokenize(model, text, add_special=True, parse_special=False)
    add_bos = llcpp.add_bos(model)
    bos = C.llama_vocab_bos(vocab)
    available = len(tokens) // n_ctx
    if available < 1:
        raise SystemExit(f"{len(tokens)} tokens: fewer than one window of {n_ctx}")
    n_chunk = min(available, args.chunks or available)
    first = n_ctx // 2
    batch = llcpp.Batch(n_ctx)
    nll = nll2 = ref_nll = 0.0
    count = 0
    running, kls, same_top = [], [], 0
    for i in range(n_chunk):
        window = list(tokens[i * n_ctx:(i + 1) * n_ctx])
        if add_bos:
            window[0] = bos
        llcpp.memory_clear(ctx)
        batch.fill(window, 0, logits="all")
        llcpp.decode(ctx, batch)
        if ref_ctx:
            llcpp.memory_clear(ref_ctx)
            llcpp.decode(ref_ctx, batch)
        for j in range(first, n_ctx - 1):
            lg = np.ctypeslib.as_array(C.llama_get_logits_ith(ctx, j), shape=(nv,))
            ls = log_softmax(lg)
            v = -ls[window[j + 1]]
            nll += v
            nll2 += v * v
            count += 1
            if ref_ctx:
                rlg = np.ctypeslib.as_array(C.llama_get_logits_ith(ref_ctx, j), shape=(nv,))
                rls = log_softmax(rlg)
                ref_nll += -rls[window[j + 1]]
                kls.append(float((np.exp(rls) * (rls - ls)).sum()))
                same_top += int(np.argmax(lg) == np.argmax(rlg))
        running.append(math.exp(nll / count))
        print(f"[{i + 1}]{running[-1]:.4f}", end=",", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    mean = nll / count
    var = nll2 / count - mean * mean
    ppl = math.exp(mean)
    out = {
        "model": args.model, "file": args.file, "context": n_ctx, "chunks": n_chunk, "available_chunks": available,
        "text_tokens": len(tokens), "scored_tokens": count, "add_bos": add_bos, "perplexity": ppl,
        "perplexity_error": ppl * math.sqrt(max(var, 0) / (count - 1)), "mean_nll": mean,
        "chunk_perplexities": running, "engine": {"llama_cpp_python": llcpp.version(), "threads": args.threads,
                                                  "kv_cache": "f16", "flash_attn": "auto"},
    }
    if ref_ctx:
        k = np.array(kls)
        out["reference"] = {"model": args.compare, "perplexity": math.exp(ref_nll / count), "mean_nll": ref_nll / count}
        out["kl_divergence"] = {"mean": float(k.mean()), "error": float(k.std(ddof=1) / math.sqrt(len(k))),
                                "median": float(np.percentile(k, 50)), "p99": float(np.percentile(k, 99)),
                                "max": float(k.max())}
        out["top1_agreement"] = same_top / count
        llcpp.free(ref_ctx, ref)
    print(json.dumps(out))
    batch.free()
    llcpp.free(ctx, model)


if __name__ == "__main__":
    main()
