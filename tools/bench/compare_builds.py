#!/usr/bin/env python3
"""Compares two phi4 builds on the same machine in the same run (interleaved A, B, A, B, …), e.g. the release
build with -O (overflow and bounds checks on) against one with -Ounchecked, to decide where -Ounchecked pays.

  tools/bench/compare_builds.py --a PHI4_A --b PHI4_B --gguf SmolLM2.gguf [--rounds 3]

Measures: prompt processing and generation (phi4 bench, --quantize q4 and the GGUF as stored), tokenization of a
text (phi4 tokenize --jsonl), audio decoding (WAV and FLAC: phi4 transcribe decodes before it loads the model, so a
missing model times the decode alone), and image + audio preprocessing through the tiny Phi-4-multimodal fixture
(phi4 bench --image/--audio, where the tiny model's share is small). Prints medians and B/A ratios (> 1: B faster
for rates, slower for times)."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd):
    """Runs cmd; returns the process, its wall seconds and its CPU seconds (user + system). On a shared machine the
    CPU time of a single-threaded run is the steadier measure of the work done."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p, time.perf_counter() - t0, cpu_seconds() - c0


def bench(phi4, args):
    p, _, cpu = run([phi4, "bench", "--json", "-r", "3"] + args)
    if p.returncode != 0:
        sys.exit(f"{phi4} bench failed: {p.stderr}")
    return json.loads(p.stdout)["results"], cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--audio", nargs="*", default=[], help="long audio files to time decoding")
    args = ap.parse_args()
    tok_dir = os.path.join(ROOT, "Tests", "PhiTokenizerTests", "Fixtures")
    text = os.path.join(tok_dir, "encode_plain.jsonl")
    mm = os.path.join(ROOT, "Tests", "PhiModelsTests", "Fixtures", "phi4mm-tiny")
    image = os.path.join(ROOT, "Tests", "PhiMediaTests", "Fixtures", "images", "hd", "big_3000x2900.png")
    speech = os.path.join(ROOT, "Tests", "PhiMediaTests", "Fixtures", "audio", "speech_16k.wav")
    t = ["-t", str(args.threads)]
    samples = {}

    def add(key, which, value):
        samples.setdefault(key, {"a": [], "b": []})[which].append(value)

    for r in range(args.rounds):
        for which, phi4 in (("a", args.a), ("b", args.b)):
            for quant in (["--quantize", "q4"], []):
                name = "q4" if quant else "as stored"
                rows, cpu = bench(phi4, ["--model", args.gguf, "-p", "128", "-n", "32"] + quant + t)
                for row in rows:
                    add(f"{name} {row['test']} tok/s", which, row["tokens_per_second"])
                add(f"{name} bench CPU s", which, cpu)
            p, s, cpu = run([phi4, "tokenize", "--model", tok_dir, "--jsonl", text])
            assert p.returncode == 0, p.stderr
            add("tokenize 0.9 MB CPU s", which, cpu)
            for f in args.audio:
                p, s, cpu = run([phi4, "transcribe", "--model", "/nonexistent-model", f])
                assert "nonexistent-model" in p.stderr, p.stderr
                add(f"decode {os.path.basename(f)} CPU s", which, cpu)
            rows, cpu = bench(phi4, ["--model", mm, "-p", "0", "-n", "0", "--image", image, "--audio", speech] + t)
            for row in rows:
                add(f"tiny-mm {row['test']} s", which, row["seconds"])
            add("tiny-mm bench CPU s", which, cpu)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(f"A = {args.a}\nB = {args.b}\n")
    print(f"{'measure':32} {'A median':>12} {'B median':>12} {'B/A':>7}")
    for key, v in samples.items():
        a, b = statistics.median(v["a"]), statistics.median(v["b"])
        print(f"{key:32} {a:12.3f} {b:12.3f} {b / a:7.3f}")


if __name__ == "__main__":
    main()
