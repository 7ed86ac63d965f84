#!/usr/bin/env python3
"""PhiKit vs PyTorch (transformers) on the Phi-4-multimodal encoders, full size, side by side in one run.

    .venv/bin/python tools/bench/make_random_phi4mm.py              # folder + bench image (once, ~11 GB)
    swift build -c release --product phi4 [--scratch-path DIR]
    .venv/bin/python tools/bench/compare_multimodal.py [--phi4 DIR/release/phi4] [--build] [-r 3] [--threads 2]

One after the other, so they never share the CPU (other users of the machine still can: timings are noisy):
  (a) `phi4 bench --model DIR -p 0 -n 0 -r R --image IMAGE --json -t T`: image preprocessing, SigLIP on every crop
      and the projector, median of R (PhiKit's own warm-up is one LM token; the image is not warmed up);
  (b) tools/bench/bench_vision_torch.py --skip-audio --model DIR: the same image through transformers' native
      vision path in f32 (eager, bidirectional, 26 of 27 layers as the model uses), one warm-up + median of R;
  (c) tools/bench/bench_vision_torch.py --skip-vision --model DIR: the conformer on 30 s of audio (f32).
      PhiKit's side: pass `--phikit-audio-args "--audio FILE"` (a 30 s recording) and `phi4 bench` adds an "audio"
      row (log-mel features + conformer + speech projector), compared with PyTorch's conformer + projector.
Each child runs in its own process so its peak RSS (from wait4) is its own. Prints a markdown table (seconds,
PyTorch/PhiKit ratio = how many times faster PhiKit is, peak RSS) and writes every raw JSON to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_json(cmd: list[str], cwd: Path = ROOT) -> tuple[dict, int, float]:
    """Run cmd, return (last stdout line as JSON, peak RSS bytes of that child, wall seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {shlex.join(cmd)}\n{stderr[-4000:]}")
    lines = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]), usage.ru_maxrss * 1024, wall


def build(scratch: Path, tries: int, wait: float) -> Path:
    """swift build the phi4 product; a compile error (the tree may be mid-edit) is retried after `wait` s."""
    cmd = ["swift", "build", "-c", "release", "--product", "phi4", "--scratch-path", str(scratch)]
    for k in range(tries):
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode == 0:
            return scratch / "release" / "phi4"
        print(f"build failed (try {k + 1}/{tries}):\n{(r.stdout + r.stderr)[-2000:]}", file=sys.stderr)
        if k + 1 < tries:
            time.sleep(wait)
    sys.exit("swift build kept failing")


def gib(b: float) -> str:
    return f"{b / 2**30:.2f} GiB" if b else "—"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=ROOT / "bench-models" / "phi4mm-random-bf16")
    ap.add_argument("--image", type=Path, default=ROOT / "bench-models" / "bench-1024x768.png")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-r", "--repetitions", type=int, default=3)
    ap.add_argument("--phi4", type=Path, default=ROOT / ".build" / "release" / "phi4")
    ap.add_argument("--build", action="store_true", help="swift build the phi4 product first (into --scratch-path)")
    ap.add_argument("--scratch-path", type=Path, default=Path("/tmp/build-bench"))
    ap.add_argument("--build-tries", type=int, default=4)
    ap.add_argument("--build-wait", type=float, default=180.0)
    ap.add_argument("--torch-dtypes", nargs="+", default=["f32"], help="vision dtypes for PyTorch (f32, bf16)")
    ap.add_argument("--skip-phikit", action="store_true")
    ap.add_argument("--skip-audio", action="store_true")
    ap.add_argument("--phikit-audio-args", default="",
                    help='extra `phi4 bench` arguments that time the audio encoder, e.g. "--audio 30s.wav"')
    ap.add_argument("--audio-seconds", type=float, default=30.0)
    args = ap.parse_args()

    for p, hint in ((args.model, "run tools/bench/make_random_phi4mm.py"), (args.image, "make_random_phi4mm.py writes it")):
        if not p.exists():
            sys.exit(f"{p} is missing: {hint}")
    phi4 = build(args.scratch_path, args.build_tries, args.build_wait) if args.build else args.phi4
    if not args.skip_phikit and not phi4.exists():
        sys.exit(f"{phi4} is missing: build it (swift build -c release --product phi4) or pass --build / --phi4")

    rows = []  # (what, phikit median | None, phikit min, pytorch median, pytorch min, phikit rss, pytorch rss, note)
    ours = None
    if not args.skip_phikit:
        cmd = [str(phi4), "bench", "--model", str(args.model), "-p", "0", "-n", "0", "-r", str(args.repetitions),
               "--image", str(args.image), "--json", "-t", str(args.threads)] + shlex.split(args.phikit_audio_args)
        ours, ours_rss, _ = run_json(cmd)
        print(json.dumps({"phikit": ours, "peak_rss_bytes_wait4": ours_rss}), file=sys.stderr, flush=True)
        ours_rss = ours.get("peak_resident_bytes") or ours_rss
    by_test = {r["test"]: r for r in (ours or {}).get("results", [])}

    bench = [sys.executable, str(ROOT / "tools/bench/bench_vision_torch.py"), "--model", str(args.model),
             "--image", str(args.image), "--threads", str(args.threads), "-r", str(args.repetitions)]
    tv, tv_rss, _ = run_json(bench + ["--skip-audio", "--dtypes"] + args.torch_dtypes)
    print(json.dumps({"pytorch_vision": tv, "peak_rss_bytes_wait4": tv_rss}), file=sys.stderr, flush=True)
    img = by_test.get("image")
    for v in tv["vision"]:
        rows.append((f"image {args.image.name}: {v['crops']} crops, {v['image_tokens']} tokens (PyTorch {v['dtype']})",
                     img["seconds"] if img else None, img["min"] if img else None, v["seconds"],
                     v["preprocess_seconds"] + min(v["encode_samples"]), ours_rss if img else 0, tv_rss,
                     f"PyTorch: preprocess {v['preprocess_seconds']:.2f} s + encode {v['encode_seconds']:.2f} s"))

    if not args.skip_audio:
        ta, ta_rss, _ = run_json(bench + ["--skip-vision", "--audio-seconds", str(args.audio_seconds)])
        print(json.dumps({"pytorch_audio": ta, "peak_rss_bytes_wait4": ta_rss}), file=sys.stderr, flush=True)
        aud = by_test.get("audio")  # present when --phikit-audio-args "--audio FILE" was given
        for a in ta["audio"]:
            rows.append((f"audio {a['audio_seconds']:g} s: features {a['features_shape']}, {a['audio_tokens']} tokens "
                         f"(PyTorch {a['dtype']})", aud["seconds"] if aud else None, aud["min"] if aud else None,
                         a["seconds"], min(a["encoder_samples"]), ours_rss if aud else 0, ta_rss,
                         f"PyTorch: conformer {a['encoder_seconds']:.2f} s (+ projector {a['projector_seconds']:.3f} s)"
                         + ("" if aud else "; PhiKit side not benchmarked yet")))

    print(f"threads {args.threads}, median of {args.repetitions}, model {args.model}")
    print("| encoder input | PhiKit s | PyTorch s | PyTorch/PhiKit | PhiKit min s | PyTorch min s | ratio of mins "
          "| PhiKit peak RSS | PyTorch peak RSS | note |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def sec(x):
        return f"{x:.2f}" if x else "—"

    for what, ps, pmin, ts, tmin, prss, trss, note in rows:
        ratio = f"{ts / ps:.2f}x" if ps else "—"
        ratio_min = f"{tmin / pmin:.2f}x" if pmin else "—"
        print(f"| {what} | {sec(ps)} | {ts:.2f} | {ratio} | {sec(pmin)} | {tmin:.2f} | {ratio_min} | {gib(prss)} "
              f"| {gib(trss)} | {note} |")
    print("seconds = median of the repetitions; min = fastest repetition (less disturbed by other load on the machine)")
    if ours:
        print(f"PhiKit: load {ours.get('load_seconds', 0):.1f} s, first token {ours.get('first_token_seconds', 0):.1f} s; "
              f"peak RSS includes the LM weights paged in by its one-token warm-up "
              f"(heap {gib(ours.get('resident_anonymous_bytes', 0))}, mapped {gib(ours.get('resident_file_bytes', 0))} "
              f"at the end)")


if __name__ == "__main__":
    main()
