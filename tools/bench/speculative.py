#!/usr/bin/env python3
"""Speculative decoding benchmark, single stream, one run: decode tokens/s of `phi4 run --draft none` and
`--draft lookup` (adaptive prompt lookup, the default) on input-grounded tasks (rewrite a ~1,000-token code file
with a small change; a summary with quotes) and on free generation, runs interleaved and repeated, medians and
ratios reported. Greedy, so the outputs must be identical (checked). When --llama-lookup is given (with
--llama-model when llama.cpp should read another GGUF than --model), llama.cpp's `llama-lookup` runs the same
prompts in the same loop as the peer: with `--spec-draft-n-max N` and with 0 (its plain decoding, same code
path), so its own speedup is reported beside ours (older llama.cpp trees call the flag `--draft`: --llama-draft-flag).
llama.cpp runs with OMP_WAIT_POLICY=passive: on a shared, oversubscribed machine OpenMP's spinning threads made it
10x slower (5 against 56 tokens/s on SmolLM2), which would be no fair peer figure.

Both engines get the same raw prompt text (the chat template applied here, --template), so they decode the same
sequence. Standard library only.

  tools/bench/speculative.py --phi4 .build/release/phi4 --model MODEL.gguf [--quantize q4] [--template chatml]
      [--threads 2] [--max-tokens 256] [--repeats 3] [--llama-lookup BIN --llama-model MODEL.gguf] [--json OUT]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "speculative")

TEMPLATES = {
    # SmolLM2 / Qwen style.
    "chatml": ("<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
               "<|im_start|>assistant\n{prefill}"),
    # Phi-4-mini.
    "phi": "<|system|>You are a helpful AI assistant.<|end|><|user|>{user}<|end|><|assistant|>{prefill}",
}


def tasks():
    code = open(os.path.join(INPUTS, "code.swift.txt"), encoding="utf-8").read()
    article = open(os.path.join(INPUTS, "article.txt"), encoding="utf-8").read()
    return [
        # The answer starts as the reply would, so small models copy rather than describe.
        ("code-edit", "Here is a Swift file:\n\n```swift\n" + code + "```\n\nRewrite this file, renaming "
         "ToolCallDetector to ToolCallSniffer. Keep everything else exactly the same.", "```swift\n"),
        ("summary", "Summarize the following article in a few paragraphs. Quote the log book entries and the "
         "fisherman word for word.\n\n" + article, ""),
        ("free", "Write a long story about a lighthouse keeper who finds a message in a bottle.", ""),
    ]


def run_phi4(args, prompt, mode):
    cmd = [args.phi4, "run", "--model", args.model, "-t", str(args.threads), "--max-tokens", str(args.max_tokens),
           "--json", "--raw", "--draft", mode]
    if args.quantize:
        cmd += ["--quantize", args.quantize]
    out = subprocess.run(cmd + [prompt], capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    return {"tps": d["decode_tokens_per_second"], "tokens": d["generated_tokens"],
            "drafted": d.get("drafted_tokens", 0), "accepted": d.get("accepted_draft_tokens", 0),
            "calls": d.get("draft_calls", 0)}


def run_llama(args, binary, prompt, extra):
    cmd = [binary, "-m", args.llama_model, "-t", str(args.threads), "-n", str(args.max_tokens), "--temp", "0",
           "-c", "4096", "-p", prompt] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_WAIT_POLICY="passive"))
    log = p.stdout + p.stderr
    if p.returncode != 0:
        raise RuntimeError(f"{binary} failed ({p.returncode}): {log[-2000:]}")
    # llama-lookup: "decoded N tokens in S seconds, speed: R t/s"; llama-simple/cli: "eval time = ... tokens per second".
    m = re.search(r"decoded\s+(\d+)\s+tokens in\s+([\d.]+)\s+seconds", log)
    tps = int(m.group(1)) / float(m.group(2)) if m else None
    if tps is None:
        m = re.search(r"eval time =.*?runs.*?([\d.]+) tokens per second", log) or \
            re.search(r"decoded\s+(\d+)\s+tokens in\s+([\d.]+)\s+s", log)
        if m and m.lastindex == 2:
            tps = int(m.group(1)) / float(m.group(2))
        elif m:
            tps = float(m.group(1))
    acc = re.search(r"n_accept\s*=\s*(\d+)", log)
    drafted = re.search(r"n_drafted\s*=\s*(\d+)", log)
    return {"tps": tps, "accepted": int(acc.group(1)) if acc else None, "drafted": int(drafted.group(1)) if drafted else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phi4", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--quantize")
    ap.add_argument("--template", choices=sorted(TEMPLATES), default="chatml")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tasks", default="code-edit,summary,free")
    ap.add_argument("--llama-lookup", help="llama.cpp's llama-lookup binary (the peer)")
    ap.add_argument("--llama-model", help="the GGUF llama.cpp loads (defaults to --model)")
    ap.add_argument("--llama-draft", type=int, default=8, help="llama-lookup's draft length")
    ap.add_argument("--llama-draft-flag", default="--spec-draft-n-max", help="its flag (--draft in older trees)")
    ap.add_argument("--json", help="write all samples here")
    args = ap.parse_args()
    args.llama_model = args.llama_model or args.model
    wanted = set(args.tasks.split(","))
    chosen = [t for t in tasks() if t[0] in wanted]

    samples = {}
    for rep in range(args.repeats):
        for name, user, prefill in chosen:
            prompt = TEMPLATES[args.template].format(user=user, prefill=prefill)
            # Alternate the order each repetition so a slow spell on the shared machine hits both sides.
            modes = ["none", "lookup"] if rep % 2 == 0 else ["lookup", "none"]
            for mode in modes:
                r = run_phi4(args, prompt, mode)
                samples.setdefault((name, "phikit-" + mode), []).append(r)
            if args.llama_lookup:
                r = run_llama(args, args.llama_lookup, prompt, [args.llama_draft_flag, str(args.llama_draft)])
                samples.setdefault((name, "llama-lookup"), []).append(r)
            if args.llama_lookup:
                r = run_llama(args, args.llama_lookup, prompt, [args.llama_draft_flag, "0"])
                samples.setdefault((name, "llama-plain"), []).append(r)
            print(f"rep {rep + 1}/{args.repeats} {name}: " + ", ".join(
                f"{k[1]} {v[-1]['tps']:.2f}" for k, v in samples.items() if k[0] == name and v[-1]["tps"]),
                file=sys.stderr, flush=True)

    def med(name, engine):
        v = [s["tps"] for s in samples.get((name, engine), []) if s["tps"]]
        return statistics.median(v) if v else None

    print(f"model {os.path.basename(args.model.rstrip('/'))}{' --quantize ' + args.quantize if args.quantize else ''}, "
          f"{args.threads} threads, {args.max_tokens} new tokens, greedy, median of {args.repeats} interleaved runs")
    print("| task | plain tok/s | lookup tok/s | speedup (median of paired runs) | accepted/drafted (mean accepted per call) | identical |"
          + (" llama plain tok/s | llama-lookup tok/s | llama speedup | llama accepted/drafted | PhiKit lookup ÷ llama-lookup |"
             if args.llama_lookup else ""))
    print("|---|---|---|---|---|---|" + ("---|---|---|---|---|" if args.llama_lookup else ""))
    ok = True
    for name, _, _ in chosen:
        a, b = med(name, "phikit-none"), med(name, "phikit-lookup")
        runs_a, runs_b = samples[(name, "phikit-none")], samples[(name, "phikit-lookup")]
        same = all(x["tokens"] == runs_a[0]["tokens"] for x in runs_a + runs_b)
        ok &= same
        dr = sum(x["drafted"] for x in runs_b) // len(runs_b)
        ac = sum(x["accepted"] for x in runs_b) // len(runs_b)
        calls = sum(x["calls"] for x in runs_b) / len(runs_b)
        # Each repetition's two runs are adjacent in time: their ratio is less exposed to the machine's load swings.
        paired = statistics.median(y["tps"] / x["tps"] for x, y in zip(runs_a, runs_b))
        line = (f"| {name} ({len(runs_a[0]['tokens'])} tok) | {a:.2f} | {b:.2f} | {b / a:.2f}x ({paired:.2f}x) | {ac}/{dr} "
                f"({ac / calls if calls else 0:.2f}) | {same} |")
        if args.llama_lookup:
            lp, lk = med(name, "llama-plain"), med(name, "llama-lookup")
            ls = samples[(name, "llama-lookup")][-1]
            fmt = lambda v, suffix="": f"{v:.2f}{suffix}" if v else "n/a"
            line += (f" {fmt(lp)} | {fmt(lk)} | {fmt(lk / lp if lk and lp else None, 'x')} | "
                     f"{ls['accepted']}/{ls['drafted']} | {fmt(b / lk if lk else None, 'x')} |")
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{k[0]}/{k[1]}": [{kk: vv for kk, vv in s.items() if kk != "tokens"} for s in v]
                       for k, v in samples.items()}, f, indent=1)
    if not ok:
        print("ERROR: outputs with and without drafting differ", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
