#!/usr/bin/env python3
"""Builds the audio fixtures for Tests/PhiMediaTests (Fixtures/audio) and their expected values.

Run with .venv/bin/python (packages: tools/media/requirements-audio.txt; system tools: espeak-ng, sox,
flac). Deterministic except for espeak-ng/flac versions (recorded in the manifest).

Expected values come from independent implementations:
  * decoding: `soundfile.read(path)` (libsndfile/libFLAC), float64, channels averaged with `.mean(1)`, then
    float32 -> FNV-1a-64 of the float32 bytes + probe samples (tests require bit-exact equality);
  * features: tools/media/phi4mm_audio_features.extract (the original Phi-4-MM extractor), stored as float32;
  * resampling: soxr VHQ (`soxr.resample(x, rate, 16000, quality="VHQ")`), stored as float32;
  * a mini FLAC encoder below writes streams the flac CLI never produces (variable block size, escape partitions,
    Rice2, wasted bits, every stereo mode, LPC, 8/16-bit coded block sizes); libFLAC (`flac -t` and soundfile)
    must decode them to the known integers.
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import scipy.signal
import soundfile as sf
import soxr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import phi4mm_audio_features as ref  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "Tests", "PhiMediaTests", "Fixtures", "audio")
OUT = os.path.normpath(OUT)
rng = np.random.default_rng(20261128)
manifest = {"decode": [], "errors": [], "features": [], "resample": [], "tools": {}}


def path(name):
    return os.path.join(OUT, name)


def fnv64(a32):
    h = 0xCBF29CE484222325
    for byte in np.ascontiguousarray(a32, dtype="<f4").tobytes():
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def expected_mono(p):
    x, rate = sf.read(p)  # float64, the reference's default
    if x.ndim == 2:
        x = x.mean(1)
    return x.astype(np.float32), rate


def add_decode(name, note="", source=None):
    m, rate = expected_mono(path(source or name))
    idx = sorted(set([0, 1, len(m) // 3, len(m) // 2, len(m) - 2, len(m) - 1] + list(rng.integers(0, len(m), 10))))
    manifest["decode"].append({"file": name, "rate": int(rate), "count": int(len(m)), "fnv64": fnv64(m),
                               "probes": [[int(i), float(m[i])] for i in idx], "note": note})
    return m, rate


def add_error(name, kind, note=""):
    manifest["errors"].append({"file": name, "kind": kind, "note": note})


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- mini FLAC encoder
class Bits:
    def __init__(self):
        self.acc, self.n = 0, 0

    def put(self, v, n):
        if n:
            self.acc = (self.acc << n) | (v & ((1 << n) - 1))
            self.n += n

    def unary(self, q):
        self.put(0, q)
        self.put(1, 1)

    def bytes(self):
        pad = (-self.n) % 8
        return (self.acc << pad).to_bytes((self.n + pad) // 8, "big")


def crc8(data):
    c = 0
    for b in data:
        c ^= b
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def crc16(data):
    c = 0
    for b in data:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x8005) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
    return c


def utf8_number(v):
    if v < 0x80:
        return bytes([v])
    for n, cap in ((2, 11), (3, 16), (4, 21), (5, 26), (6, 31), (7, 36)):
        if v < (1 << cap):
            out = []
            for _ in range(n - 1):
                out.append(0x80 | (v & 0x3F))
                v >>= 6
            first = ((0xFF << (8 - n)) & 0xFF) | v
            return bytes([first] + out[::-1])
    raise ValueError(v)


def residual_bits(w, res, order, n, method, porder, escape_parts):
    w.put(method, 2)
    w.put(porder, 4)
    pb, esc = (4, 15) if method == 0 else (5, 31)
    parts = 1 << porder
    per = n // parts
    i = 0
    for p in range(parts):
        cnt = per - order if p == 0 else per
        chunk = res[i:i + cnt]
        i += cnt
        if p in escape_parts:
            width = max([int(abs(int(e))).bit_length() + 1 for e in chunk] + [0]) if any(chunk) else 0
            w.put(esc, pb)
            w.put(width, 5)
            for e in chunk:
                w.put(int(e), width)
            continue
        mean = np.mean(np.abs(chunk)) if len(chunk) else 0
        k = max(0, min(esc - 1, int(math.log2(mean + 1))))
        w.put(k, pb)
        for e in chunk:
            e = int(e)
            u = (e << 1) if e >= 0 else ((-e) << 1) - 1
            w.unary(u >> k)
            w.put(u & ((1 << k) - 1), k)


def subframe(w, s, bits, kind, wasted=0, method=0, porder=0, escape_parts=()):
    s = [int(v) for v in s]
    if wasted:
        assert all(v % (1 << wasted) == 0 for v in s)
        s = [v >> wasted for v in s]
        bits -= wasted
    n = len(s)
    def header(t):
        w.put(0, 1)
        w.put(t, 6)
        if wasted:
            w.put(1, 1)
            w.unary(wasted - 1)
        else:
            w.put(0, 1)
    if kind == "constant":
        assert len(set(s)) == 1
        header(0)
        w.put(s[0], bits)
    elif kind == "verbatim":
        header(1)
        for v in s:
            w.put(v, bits)
    elif kind.startswith("fixed"):
        order = int(kind[5:])
        coefs = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]][order]
        header(8 + order)
        for v in s[:order]:
            w.put(v, bits)
        res = [s[i] - sum(c * s[i - 1 - j] for j, c in enumerate(coefs)) for i in range(order, n)]
        residual_bits(w, res, order, n, method, porder, escape_parts)
    elif kind.startswith("lpc"):
        order = int(kind[3:])
        prec, shift = 12, 10
        x = np.array(s, dtype=np.float64)
        A = np.array([x[order - 1 - j:n - 1 - j] for j in range(order)]).T
        a, *_ = np.linalg.lstsq(A, x[order:], rcond=None)
        q = [int(max(-(1 << (prec - 1)), min((1 << (prec - 1)) - 1, round(c * (1 << shift))))) for c in a]
        header(32 + order - 1)
        for v in s[:order]:
            w.put(v, bits)
        w.put(prec - 1, 4)
        w.put(shift, 5)
        for c in q:
            w.put(c, prec)
        res = [s[i] - (sum(c * s[i - 1 - j] for j, c in enumerate(q)) >> shift) for i in range(order, n)]
        residual_bits(w, res, order, n, method, porder, escape_parts)
    else:
        raise ValueError(kind)


def mini_flac(name, chans, rate, bps, blocks, plan):
    """chans: list of int arrays (L, R, …); blocks: block sizes; plan(i) -> (chmode, [subframe kwargs per ch], rate_code)."""
    nch, total = len(chans), len(chans[0])
    assert sum(blocks) == total
    si = Bits()
    si.put(min(blocks), 16)
    si.put(max(blocks), 16)
    si.put(0, 24)
    si.put(0, 24)
    si.put(rate, 20)
    si.put(nch - 1, 3)
    si.put(bps - 1, 5)
    si.put(total, 36)
    si.put(0, 128)
    out = bytearray(b"fLaC" + bytes([0x80, 0, 0, 34]) + si.bytes())
    frames, start = [], 0
    size_codes = {8: 1, 12: 2, 16: 4, 20: 5, 24: 6, 32: 7}
    for fi, bs in enumerate(blocks):
        chmode, subs, rate_code = plan(fi)
        seg = [np.asarray(c[start:start + bs], dtype=np.int64) for c in chans]
        if chmode == 8:
            data, extra = [seg[0], seg[0] - seg[1]], [0, 1]
        elif chmode == 9:
            data, extra = [seg[0] - seg[1], seg[1]], [1, 0]
        elif chmode == 10:
            data, extra = [(seg[0] + seg[1]) >> 1, seg[0] - seg[1]], [0, 1]
        else:
            data, extra = seg, [0] * nch
        h = Bits()
        h.put(0x7FFC, 15)
        h.put(1, 1)  # variable block size: the coded number is the first sample's number
        bscode = 6 if bs <= 256 else 7
        h.put(bscode, 4)
        h.put(rate_code, 4)
        h.put(chmode if chmode >= 8 else nch - 1, 4)
        h.put(size_codes[bps] if fi % 2 else 0, 3)
        h.put(0, 1)
        hb = bytearray(h.bytes()) + utf8_number(start)
        hb += (bs - 1).to_bytes(1 if bscode == 6 else 2, "big")
        if rate_code == 13:
            hb += rate.to_bytes(2, "big")
        hb.append(crc8(hb))
        w = Bits()
        for ch in range(nch):
            subframe(w, data[ch], bps + extra[ch], **subs[ch])
        fb = hb + w.bytes()
        fb += crc16(fb).to_bytes(2, "big")
        frames.append((len(out), len(hb)))
        out += fb
        start += bs
    with open(path(name), "wb") as f:
        f.write(out)
    run(["flac", "-t", "-s", path(name)])  # libFLAC must accept it
    back, _ = sf.read(path(name), dtype="int32")
    back = back.reshape(total, -1) >> (32 - bps)
    assert np.array_equal(back, np.stack(chans, 1)), name
    return bytes(out), frames


def make_mini_flacs():
    n = 12000
    t = np.arange(n)
    left = (9000 * np.sin(2 * np.pi * 440 * t / 16000) + rng.normal(0, 300, n)).astype(np.int64)
    right = (6000 * np.sin(2 * np.pi * 660 * t / 16000 + 1) + rng.normal(0, 300, n)).astype(np.int64)
    blocks = [1000, 37, 4096, 513, 2000, 16, 777, 2048, 1513]
    # block 1 (37 samples): constant in both channels; block 5 (16 samples): multiples of 8 (wasted bits)
    b1 = slice(1000, 1037)
    left[b1], right[b1] = 1234, -77
    b5 = slice(sum(blocks[:5]), sum(blocks[:6]))
    left[b5] = (left[b5] >> 3) << 3
    right[b5] = (right[b5] >> 3) << 3
    left[-1], right[-1] = 32767, -32768  # full scale

    def plan(i):
        modes = [8, 1, 9, 10, 1, 10, 8, 9, 10]
        kinds = [
            [dict(kind="fixed2", porder=3, escape_parts=(1,)), dict(kind="lpc8", method=1, porder=2)],
            [dict(kind="constant"), dict(kind="constant")],
            [dict(kind="lpc12", porder=4, escape_parts=(0, 5)), dict(kind="fixed3", method=1, porder=0)],
            [dict(kind="fixed1"), dict(kind="verbatim")],
            [dict(kind="fixed4", porder=4), dict(kind="lpc32", porder=1, escape_parts=(1,))],
            [dict(kind="verbatim", wasted=2), dict(kind="fixed2", wasted=3)],
            [dict(kind="fixed0", escape_parts=(0,)), dict(kind="lpc1")],
            [dict(kind="lpc4", method=1, porder=5, escape_parts=(3,)), dict(kind="fixed2", porder=7)],
            [dict(kind="lpc2"), dict(kind="fixed1", method=1)],
        ]
        return modes[i], kinds[i], 13 if i % 3 == 0 else 0
    data, frames = mini_flac("mini_variable_stereo16.flac", [left, right], 16000, 16, blocks, plan)
    add_decode("mini_variable_stereo16.flac", "own encoder: variable blocks, every subframe type, escapes, Rice2, wasted bits, all stereo modes")
    # the same samples as a WAV for the FLAC == WAV test
    sf.write(path("mini_variable_stereo16.wav"), np.stack([left, right], 1).astype(np.int16), 16000, subtype="PCM_16")
    add_decode("mini_variable_stereo16.wav")
    # corruptions with a known failure
    off, hlen = frames[2]
    bad = bytearray(data)
    bad[off + hlen - 1] ^= 0x5A  # the CRC-8 byte of frame 2
    open(path("bad_crc8.flac"), "wb").write(bad)
    add_error("bad_crc8.flac", "checksumMismatch")
    bad = bytearray(data)
    nxt = frames[3][0]
    bad[nxt - 1] ^= 0x01  # the last CRC-16 byte of frame 2
    open(path("bad_crc16.flac"), "wb").write(bad)
    add_error("bad_crc16.flac", "checksumMismatch")
    bad = bytearray(data)
    bad[off + hlen + 40] ^= 0x10  # a residual bit inside frame 2: CRC-16 or a structural error
    open(path("bad_bitflip.flac"), "wb").write(bad)
    add_error("bad_bitflip.flac", "any")
    open(path("truncated.flac"), "wb").write(data[: frames[4][0] + 100])
    add_error("truncated.flac", "truncated")
    open(path("truncated_at_frame.flac"), "wb").write(data[: frames[4][0]])
    add_error("truncated_at_frame.flac", "truncated", "ends on a frame boundary before STREAMINFO's total")

    # 24-bit mono 48 kHz, Rice2 with escapes and LPC
    m = (3_000_000 * np.sin(2 * np.pi * 1000 * np.arange(6000) / 48000) + rng.normal(0, 5000, 6000)).astype(np.int64)
    m[100] = 8388607
    m[101] = -8388608
    mini_flac("mini_variable_mono24.flac", [m], 48000, 24, [4608, 1000, 392],
              lambda i: (0, [[dict(kind="lpc16", method=1, porder=3, escape_parts=(2,)),
                               dict(kind="fixed3", method=1, porder=2),
                               dict(kind="verbatim")][i]], 0))
    add_decode("mini_variable_mono24.flac", "own encoder: 24-bit, Rice2, escape, LPC 16")


# ---------------------------------------------------------------- WAV helpers
def chunk(cid, body):
    b = cid + struct.pack("<I", len(body)) + body
    return b + (b"\0" if len(body) % 2 else b"")


def fmt_body(code, ch, rate, bits, block=None):
    block = block if block is not None else ch * ((bits + 7) // 8)
    return struct.pack("<HHIIHH", code, ch, rate, rate * block, block, bits)


def riff(chunks):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def phikit_filter(src, dst, att=90.0, passband=0.9):
    """The prototype low-pass filter AudioResampler designs (Kaiser window, Kaiser's length estimate), without the
    gain L that resample_poly applies itself."""
    g = math.gcd(src, dst)
    up = dst // g
    rate = float(src) * up
    low_nyq = min(src, dst) / 2
    transition = (1 - passband) * low_nyq
    fc = 2 * (low_nyq - transition / 2) / rate
    beta = 0.1102 * (att - 8.7)
    half = int(math.ceil((att - 7.95) / (14.36 * transition / rate) / 2))
    j = np.arange(-half, half + 1)
    return fc * np.sinc(fc * j) * np.i0(beta * np.sqrt(np.maximum(0, 1 - (j / half) ** 2))) / np.i0(beta)


def zero_peak_timestamp(p):
    """libsndfile's PEAK chunk (float WAVs) holds a timestamp: zero it so the fixtures are reproducible."""
    b = bytearray(open(p, "rb").read())
    i = b.find(b"PEAK")
    if i >= 0:
        b[i + 12:i + 16] = b"\0\0\0\0"  # chunk id, size, version, then the timestamp
        open(p, "wb").write(b)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(path(f))
    manifest["tools"] = {
        "soundfile": sf.__version__, "libsndfile": sf.__libsndfile_version__, "soxr": soxr.__version__,
        "scipy": scipy.__version__, "numpy": np.__version__,
        "flac": subprocess.run(["flac", "--version"], capture_output=True, text=True).stdout.strip(),
        "espeak-ng": subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.split("  ")[0].strip(),
    }
    tmp = tempfile.mkdtemp()

    # ---- speech (espeak-ng, 22050 Hz) -> 16 kHz mono int16 via soxr
    raw = os.path.join(tmp, "speech.wav")
    run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", raw,
         "The quick brown fox jumps over the lazy dog. Phi four reads audio on the CPU."])
    sp, sr = sf.read(raw)
    sp = sp[: int(3.2 * sr)]
    sp16 = soxr.resample(sp, sr, 16000, quality="VHQ")
    sp16 = 0.9 * sp16 / np.max(np.abs(sp16))
    sf.write(path("speech_16k.wav"), sp16, 16000, subtype="PCM_16")
    speech, _ = add_decode("speech_16k.wav", "espeak-ng English, 16 kHz int16")
    # clipped: 4x gain, clipped to the int16 range
    sf.write(path("clipped_16k.wav"), np.clip(sp16 * 4, -1, 1)[:16000], 16000, subtype="PCM_16")
    add_decode("clipped_16k.wav")
    sf.write(path("noise_16k.wav"), np.clip(rng.normal(0, 0.3, 16000), -1, 1), 16000, subtype="PCM_16")
    add_decode("noise_16k.wav")
    sf.write(path("silence_16k.wav"), np.zeros(8000), 16000, subtype="PCM_16")
    add_decode("silence_16k.wav")
    # 44.1 kHz stereo speech (right channel: quieter, with a little noise)
    sp44 = soxr.resample(sp, sr, 44100, quality="VHQ")[: int(1.5 * 44100)]
    sp44 = 0.8 * sp44 / np.max(np.abs(sp44))
    st = np.stack([sp44, 0.5 * sp44 + rng.normal(0, 0.01, len(sp44))], 1)
    sf.write(path("speech_44k_stereo.wav"), st, 44100, subtype="PCM_16")
    add_decode("speech_44k_stereo.wav")

    # ---- features (reference: the original extractor on soundfile's samples)
    for name in ["speech_16k.wav", "clipped_16k.wav", "noise_16k.wav", "silence_16k.wav"]:
        x, rate = expected_mono(path(name))
        assert rate == 16000
        f = ref.extract(x)
        fname = name.replace(".wav", ".features.f32")
        f.astype("<f4").tofile(path(fname))
        manifest["features"].append({"file": name, "features": fname, "frames": int(f.shape[0]),
                                     "tokens": int(ref.token_count(f.shape[0]))})

    # ---- features of a 44.1 kHz stereo clip: mono mean, soxr VHQ to 16 kHz (a reference resampler; the original
    # processor mishandles 44.1 kHz, reference §11.2), then the original extractor. PhiKit resamples with its own
    # filter, so the comparison carries a tolerance.
    x, rate = expected_mono(path("speech_44k_stereo.wav"))
    f = ref.extract(soxr.resample(x, rate, 16000, quality="VHQ").astype(np.float32))
    f.astype("<f4").tofile(path("speech_44k_stereo.soxr_features.f32"))
    manifest["features_resampled"] = [{"file": "speech_44k_stereo.wav", "features": "speech_44k_stereo.soxr_features.f32",
                                       "frames": int(f.shape[0]), "resampler": "soxr VHQ 44100 -> 16000"}]

    # ---- WAV format matrix: 0.1 s at 22050 Hz, stereo tone + noise
    n = 2205
    base = np.stack([0.7 * np.sin(2 * np.pi * 500 * np.arange(n) / 22050),
                     np.clip(rng.normal(0, 0.3, n), -0.95, 0.95)], 1)
    base[5] = [1.0, -1.0]
    for name, subtype, kw in [
        ("pcm_u8.wav", "PCM_U8", {}), ("pcm_16.wav", "PCM_16", {}), ("pcm_24.wav", "PCM_24", {}),
        ("pcm_32.wav", "PCM_32", {}), ("float_32.wav", "FLOAT", {}), ("float_64.wav", "DOUBLE", {}),
        ("pcm_24_extensible.wav", "PCM_24", {"format": "WAVEX"}),
        ("float_32_extensible.wav", "FLOAT", {"format": "WAVEX"}),
        ("pcm_16_rifx.wav", "PCM_16", {"endian": "BIG"}),
        ("pcm_24_rf64.wav", "PCM_24", {"format": "RF64"}),
    ]:
        sf.write(path(name), base, 22050, subtype=subtype, **kw)
        zero_peak_timestamp(path(name))
        add_decode(name)
    five = np.concatenate([base, base[:, :1] * 0.5, -base], 1)
    sf.write(path("pcm_16_5ch.wav"), five, 22050, subtype="PCM_16")
    add_decode("pcm_16_5ch.wav", "5 channels")
    sf.write(path("pcm_32_mono_48k.wav"), base[:, 0], 48000, subtype="PCM_32")
    add_decode("pcm_32_mono_48k.wav")
    with open(path("float_64.wav"), "rb") as f:
        assert b"fact" in f.read(200)  # a chunk the decoder must skip
    # hand-built: odd-sized unknown chunks with pad bytes before and after fmt, a LIST chunk, data, odd trailing chunk
    pcm = (base[:, 0] * 20000).astype("<i2").tobytes()
    wav = riff([chunk(b"zzzz", b"abc"), chunk(b"fmt ", fmt_body(1, 1, 16000, 16)),
                chunk(b"LIST", b"INFOISFT" + struct.pack("<I", 5) + b"test\0"), chunk(b"data", pcm),
                chunk(b"odd!", b"x")])
    open(path("chunks_odd.wav"), "wb").write(wav)
    add_decode("chunks_odd.wav", "odd chunks with padding, unknown chunks")
    # 12-bit samples in 16-bit containers (left-justified), as PCM with bits=12
    pcm12 = ((base[:, 0] * 2047).astype(np.int16) << 4).astype("<i2").tobytes()
    open(path("pcm_12in16.wav"), "wb").write(riff([chunk(b"fmt ", fmt_body(1, 1, 16000, 12, 2)), chunk(b"data", pcm12)]))
    add_decode("pcm_12in16.wav", "12 valid bits in 16-bit containers")

    # ---- FLAC from the flac CLI and from libsndfile
    for name, src, args in [
        ("speech_16k_q0.flac", "speech_16k.wav", ["-0"]),
        ("speech_16k_q5.flac", "speech_16k.wav", ["-5"]),
        ("speech_16k_q8_b576.flac", "speech_16k.wav", ["-8", "-b", "576"]),
        ("speech_16k_lax_b192.flac", "speech_16k.wav", ["--lax", "-l", "32", "-b", "192", "-r", "8"]),
        ("speech_44k_stereo_ms.flac", "speech_44k_stereo.wav", ["-8"]),
        ("speech_44k_stereo_indep.flac", "speech_44k_stereo.wav", ["-5", "--no-mid-side"]),
        ("speech_44k_stereo_exhaustive.flac", "speech_44k_stereo.wav", ["-8", "-e", "-p", "-b", "4608"]),
        ("pcm_24_stereo.flac", "pcm_24.wav", ["-8"]),
        ("pcm_32_stereo.flac", "pcm_32.wav", ["-5"]),
        ("pcm_u8_stereo.flac", "pcm_u8.wav", ["-5"]),
        ("noise_16k.flac", "noise_16k.wav", ["-8"]),
        ("silence_16k.flac", "silence_16k.wav", ["-5"]),
        ("pcm_16_5ch.flac", "pcm_16_5ch.wav", ["-5", "--channel-map=none"]),
    ]:
        run(["flac", "-s", "-f", *args, "-o", path(name), path(src)])
        want, _ = expected_mono(path(src))
        try:
            got, _ = expected_mono(path(name))
        except sf.LibsndfileError:  # libsndfile 1.2.2 cannot read 32-bit FLAC: decode with libFLAC instead
            back = os.path.join(tmp, "back.wav")
            run(["flac", "-s", "-f", "-d", "-o", back, path(name)])
            got, _ = expected_mono(back)
        assert np.array_equal(got, want), name
        # expectations from soundfile on the source WAV (equal to libFLAC's decode of the FLAC, checked above;
        # libsndfile 1.2.2 cannot open 32-bit FLAC itself)
        add_decode(name, "flac " + " ".join(args) + " of " + src, source=src)
        manifest["decode"][-1]["sameAs"] = src
    # signals that make libFLAC choose mid/side (L = A + B, R = A - B, B noisy) and right/side (R clean, L noisy)
    tt = np.arange(8000) / 16000
    a = 0.5 * np.sin(2 * np.pi * 300 * tt)
    bn = rng.normal(0, 0.05, len(tt))
    for name, pair in [("ms_stereo_16k", (a + bn, a - bn)), ("rs_stereo_16k", (a + 3 * bn, a))]:
        sf.write(path(name + ".wav"), np.stack(pair, 1), 16000, subtype="PCM_16")
        add_decode(name + ".wav")
        run(["flac", "-s", "-f", "-8", "-o", path(name + ".flac"), path(name + ".wav")])
        add_decode(name + ".flac", "flac -8 of " + name + ".wav")
        manifest["decode"][-1]["sameAs"] = name + ".wav"
    # wasted bits: 16-bit samples that are multiples of 16
    w16 = ((sp16[:8000] * 2047).astype(np.int16) << 4)
    sf.write(path("wasted_bits.wav"), w16, 16000, subtype="PCM_16")
    run(["flac", "-s", "-f", "-5", "-o", path("wasted_bits.flac"), path("wasted_bits.wav")])
    add_decode("wasted_bits.flac")
    manifest["decode"][-1]["sameAs"] = "wasted_bits.wav"
    os.remove(path("wasted_bits.wav"))
    sf.write(path("soundfile_24.flac"), base, 22050, subtype="PCM_24")
    add_decode("soundfile_24.flac", "written by libsndfile")
    make_mini_flacs()

    # ---- errors
    open(path("empty.wav"), "wb").write(b"")
    add_error("empty.wav", "empty")
    open(path("no_samples.wav"), "wb").write(riff([chunk(b"fmt ", fmt_body(1, 1, 16000, 16)), chunk(b"data", b"")]))
    add_error("no_samples.wav", "empty")
    sp_bytes = open(path("speech_16k.wav"), "rb").read()
    open(path("truncated.wav"), "wb").write(sp_bytes[:5000])
    add_error("truncated.wav", "truncated")
    open(path("header_only.wav"), "wb").write(sp_bytes[:20])
    add_error("header_only.wav", "truncated")
    open(path("alaw.wav"), "wb").write(riff([chunk(b"fmt ", fmt_body(6, 1, 8000, 8)), chunk(b"data", b"\x55" * 100)]))
    add_error("alaw.wav", "unsupportedEncoding")
    open(path("bad_block_align.wav"), "wb").write(riff([chunk(b"fmt ", fmt_body(1, 2, 16000, 16, 3)), chunk(b"data", b"\0" * 120)]))
    add_error("bad_block_align.wav", "corrupt")
    open(path("zero_rate.wav"), "wb").write(riff([chunk(b"fmt ", fmt_body(1, 1, 0, 16)), chunk(b"data", b"\0" * 100)]))
    add_error("zero_rate.wav", "invalidSampleRate")
    open(path("no_fmt.wav"), "wb").write(riff([chunk(b"data", b"\0" * 100)]))
    add_error("no_fmt.wav", "corrupt")
    huge = riff([chunk(b"fmt ", fmt_body(1, 1, 16000, 16))]) + b"data" + struct.pack("<I", 0x7FFFFFF0) + b"\0" * 64
    open(path("huge_data_size.wav"), "wb").write(huge)
    add_error("huge_data_size.wav", "truncated")
    nan = np.zeros(100, dtype="<f4")
    nan[50] = np.nan
    open(path("nan_float.wav"), "wb").write(riff([chunk(b"fmt ", fmt_body(3, 1, 16000, 32)), chunk(b"data", nan.tobytes())]))
    add_error("nan_float.wav", "nonFiniteSamples")
    open(path("fake.mp3"), "wb").write(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(400))
    add_error("fake.mp3", "unsupportedFormat", "MP3")
    open(path("fake_raw.mp3"), "wb").write(b"\xff\xfb\x90\x64" + bytes(400))
    add_error("fake_raw.mp3", "unsupportedFormat", "MP3")
    open(path("fake.ogg"), "wb").write(b"OggS\x00\x02" + bytes(22) + b"\x01vorbis" + bytes(100))
    add_error("fake.ogg", "unsupportedFormat", "Vorbis")
    open(path("fake.m4a"), "wb").write(b"\x00\x00\x00\x20ftypM4A " + bytes(100))
    add_error("fake.m4a", "unsupportedFormat", "M4A")
    open(path("text.txt"), "wb").write(b"hello, this is not audio\n")
    add_error("text.txt", "unsupportedFormat", "unrecognised")

    # ---- resampling: 0.6 s per rate = tone | chirp | band-limited noise (0.2 s each, 10 ms fades), int16
    for rate in [8000, 11025, 22050, 32000, 44100, 48000, 96000]:
        nseg = int(0.2 * rate)
        t = np.arange(nseg) / rate
        fmax = 0.85 * min(rate, 16000) / 2
        fade = np.ones(nseg)
        nf = int(0.01 * rate)
        fade[:nf] = 0.5 - 0.5 * np.cos(np.pi * np.arange(nf) / nf)
        fade[-nf:] = fade[:nf][::-1]
        tone = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 0.8 * fmax * t + 0.3)
        chirp = 0.6 * scipy.signal.chirp(t, 100, t[-1], fmax, method="linear")
        spec = np.fft.rfft(rng.normal(0, 0.25, nseg))
        spec[np.fft.rfftfreq(nseg, 1 / rate) > fmax] = 0
        noise = np.fft.irfft(spec, nseg)
        x = np.concatenate([tone * fade, chirp * fade, noise * fade])
        name = "resample_%d.wav" % rate
        sf.write(path(name), x, rate, subtype="PCM_16")
        xin, _ = expected_mono(path(name))
        y = soxr.resample(xin.astype(np.float64), rate, 16000, quality="VHQ").astype(np.float32)
        y.astype("<f4").tofile(path(name.replace(".wav", ".soxr16k.f32")))
        # scipy's resample_poly with a Kaiser window, for the record: how far apart the two references are
        g = math.gcd(rate, 16000)
        yp = scipy.signal.resample_poly(xin.astype(np.float64), 16000 // g, rate // g, window=("kaiser", 10.0))
        m = min(len(y), len(yp))
        e = int(0.02 * 16000)
        d = y[e:m - e] - yp[e:m - e]
        snr = 10 * np.log10(np.sum(y[e:m - e].astype(np.float64) ** 2) / np.sum(d ** 2))
        entry = {"file": name, "from": rate, "to": 16000, "reference": name.replace(".wav", ".soxr16k.f32"),
                 "count": int(len(y)), "fmax": fmax, "soxr_vs_resample_poly_kaiser10_snr_db": round(float(snr), 1)}
        if rate in (8000, 11025, 44100, 96000):
            # resample_poly with AudioResampler's own filter design: same filter, same length convention
            yq = scipy.signal.resample_poly(xin.astype(np.float64), 16000 // g, rate // g,
                                            window=phikit_filter(rate, 16000)).astype(np.float32)
            entry["polyReference"] = name.replace(".wav", ".poly16k.f32")
            yq.astype("<f4").tofile(path(entry["polyReference"]))
        manifest["resample"].append(entry)

    with open(path("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(path(f)) for f in os.listdir(OUT))
    print("fixtures:", len(os.listdir(OUT)), "files,", total, "bytes")
    for r in manifest["resample"]:
        print(r["file"], "soxr vs resample_poly SNR dB", r["soxr_vs_resample_poly_kaiser10_snr_db"])


if __name__ == "__main__":
    main()
