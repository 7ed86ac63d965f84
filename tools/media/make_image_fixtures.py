#!/usr/bin/env python3
"""Image fixtures for Tests/PhiMediaTests (ImageDecoderTests, Phi4MMImageProcessorTests).

Writes Tests/PhiMediaTests/Fixtures/images/:
  inputs/      JPEG/PNG inputs (matplotlib's sample photos, synthetic images of awkward sizes, every PNG variant,
               JPEG variants) and damaged / unsupported files
  hd/          the padded HD uint8 image of the original processor (lossless PNG), where it stays small
  manifest.json  expected decode results (Pillow's Image.open(f).convert("RGB") as SHA-256 of the RGB bytes, or
               the expected error), processing results (grid, R, C, token count, HD SHA-256, sampled global-view
               floats) and a token-count sweep over many sizes.

Regenerate (from the repository root):
    .venv/bin/python tools/media/make_image_fixtures.py
Versions are pinned in tools/media/requirements.txt and recorded in the manifest; the script refuses others.
"""
import hashlib
import io
import json
import os
import random
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import PIL
import torch
from PIL import Image, features

sys.path.insert(0, str(Path(__file__).resolve().parent))
import phi4mm_image_processor as ref  # noqa: E402

PINNED = {"pillow": "11.3.0", "torch": "2.13.0+cpu", "numpy": "2.4.6", "matplotlib": "3.11.2"}
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "PhiMediaTests" / "Fixtures" / "images"
GLOBAL_SAMPLES = 2048
HD_PNG_BUDGET = 120_000  # bytes; larger HD images are checked by SHA-256 only


def check_versions():
    import matplotlib

    found = {"pillow": PIL.__version__, "torch": torch.__version__, "numpy": np.__version__,
             "matplotlib": matplotlib.__version__}
    bad = {k: (v, PINNED[k]) for k, v in found.items() if v != PINNED[k]}
    if bad and "--allow-version-mismatch" not in sys.argv:
        sys.exit(f"version mismatch (found, pinned): {bad}; pip install -r tools/media/requirements.txt")
    return found


# ---------------------------------------------------------------------------------------------- a small PNG writer
# Pillow cannot write interlaced PNGs nor 16-bit RGB/RGBA/LA, so every PNG variant is written here.

def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pack_row(samples, bit_depth):
    """samples: 1-D uint array of one row (all channels interleaved) -> bytes."""
    if bit_depth == 16:
        return samples.astype(">u2").tobytes()
    if bit_depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // bit_depth
    padded = np.zeros(((len(samples) + per - 1) // per) * per, dtype=np.uint8)
    padded[: len(samples)] = samples
    padded = padded.reshape(-1, per)
    out = np.zeros(len(padded), dtype=np.uint8)
    for k in range(per):
        out |= (padded[:, k] << (8 - bit_depth * (k + 1))).astype(np.uint8)
    return out.tobytes()


def _filter_rows(rows, bpp):
    """Per row, the filter type with the smallest sum of absolute residuals (the usual heuristic), so every filter
    type is exercised and smooth images stay small."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for row in rows:
        r = np.frombuffer(row, dtype=np.uint8).astype(np.int32)
        p = np.frombuffer(prev, dtype=np.uint8).astype(np.int32)
        left = np.concatenate([np.zeros(bpp, np.int32), r[:-bpp]])[: len(r)]
        upleft = np.concatenate([np.zeros(bpp, np.int32), p[:-bpp]])[: len(p)]
        pa = np.abs(p - upleft)
        pb = np.abs(left - upleft)
        pc = np.abs(left + p - 2 * upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, p, upleft))
        options = [r, r - left, r - p, r - (left + p) // 2, r - paeth]
        residues = [(f & 0xFF).astype(np.uint8) for f in options]
        cost = [int(np.abs(v.astype(np.int8).astype(np.int32)).sum()) for v in residues]
        ftype = int(np.argmin(cost))
        out.append(ftype)
        out += residues[ftype].tobytes()
        prev = row
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(arr, color_type, bit_depth, palette=None, trns=None, interlace=False):
    """arr: [H, W] or [H, W, C] integer samples (palette indices for color type 3)."""
    arr = np.asarray(arr)
    h, w = arr.shape[:2]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    flat = arr.reshape(h, w, channels)
    bpp = max(1, channels * bit_depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = flat[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows = [_pack_row(sub[y].reshape(-1), bit_depth) for y in range(sub.shape[0])]
        raw += _filter_rows(rows, bpp)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0,
                                                                   1 if interlace else 0))
    if palette is not None:
        png += _chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        png += _chunk(b"tRNS", trns)
    png += _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    return png


# ------------------------------------------------------------------------------------------------------ the images

def smooth_rgb(w, h, seed=0):
    """A smooth, PNG-friendly but non-trivial RGB image (gradients plus low-frequency waves)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rng = np.random.default_rng(seed)
    fx, fy = rng.uniform(2, 6, 3), rng.uniform(2, 6, 3)
    chans = []
    for c in range(3):
        v = 127.5 + 60 * np.sin(2 * np.pi * (fx[c] * x / w + c / 3)) + 60 * np.cos(2 * np.pi * fy[c] * y / h)
        chans.append(v)
    img = np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)
    # Sharp edges too, so the resize's taps matter.
    img[(x.astype(int) // 7 + y.astype(int) // 5) % 11 == 0] = (250, 20, 30)
    return img


def blocky(w, h, seed=0):
    """Rectangles of flat colour over a slow linear gradient: sharp edges for the resize, and small as a PNG."""
    rng = np.random.default_rng(seed)
    colors = rng.integers(0, 256, size=(17, 3))
    y, x = np.mgrid[0:h, 0:w]
    img = colors[(x // 53 + 3 * (y // 41)) % 17] + ((x * 40) // max(1, w))[..., None] + ((y * 20) // max(1, h))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def waves(w, h, seed=0):
    """Low-frequency colour waves: compresses well as JPEG."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rng = np.random.default_rng(seed)
    fx, fy = rng.uniform(1, 3, 3), rng.uniform(1, 3, 3)
    chans = [127.5 + 60 * np.sin(2 * np.pi * (fx[c] * x / w + c / 3)) + 60 * np.cos(2 * np.pi * fy[c] * y / h)
             for c in range(3)]
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


def textured(w, h, channels, maxval, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = (x * maxval // max(1, w - 1) + y * 3) % (maxval + 1)
    out = np.stack([(base + rng.integers(0, maxval + 1, size=(h, w)) * (c % 2)) % (maxval + 1)
                    for c in range(channels)], -1)
    return out.astype(np.uint16 if maxval > 255 else np.uint8)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def checksum(a):
    """Two position-weighted sums mod 2^64 (see ImageFixtureSupport.swift: fast in a debug build, unlike SHA-256;
    any single changed byte changes both)."""
    b = np.ascontiguousarray(a, dtype=np.uint8).reshape(-1).astype(np.uint64)
    w = (np.arange(b.size, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    w2 = w ^ (w >> np.uint64(29))
    with np.errstate(over="ignore"):
        s1 = np.sum(b * w, dtype=np.uint64)
        s2 = np.sum((b + np.uint64(1)) * w2, dtype=np.uint64)
    return f"{int(s1):016x}{int(s2):016x}"


def pillow_rgb(path):
    with Image.open(path) as im:
        mode = im.mode
        rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return mode, rgb


def jpeg_bytes(img, **kw):
    b = io.BytesIO()
    img.save(b, "JPEG", **kw)
    return b.getvalue()


def main():
    versions = check_versions()
    import matplotlib

    inputs = OUT / "inputs"
    hd_dir = OUT / "hd"
    for d in (inputs, hd_dir):
        d.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            f.unlink()
    files = {}  # name -> bytes

    sample_data = Path(matplotlib.get_data_path()) / "sample_data"
    files["grace_hopper.jpg"] = (sample_data / "grace_hopper.jpg").read_bytes()
    files["minduka_rgba.png"] = (sample_data / "Minduka_Present_Blue_Pack.png").read_bytes()
    files["logo2_rgba.png"] = (sample_data / "logo2.png").read_bytes()

    def png_rgb(name, w, h, seed, make=blocky):
        files[name] = write_png(make(w, h, seed), 2, 8)

    png_rgb("tiny_12x40.png", 12, 40, 1, smooth_rgb)
    png_rgb("wide_3000x50.png", 3000, 50, 2)
    png_rgb("tall_60x2500.png", 60, 2500, 3)
    png_rgb("square_448x448.png", 448, 448, 4)
    png_rgb("odd_641x479.png", 641, 479, 5)
    png_rgb("big_3000x2900.png", 3000, 2900, 6)
    png_rgb("extreme_1000x5.png", 1000, 5, 7)
    files["xga_1024x768.jpg"] = jpeg_bytes(Image.fromarray(waves(1024, 768, 8)), quality=75)
    files["hd_1920x1080.jpg"] = jpeg_bytes(Image.fromarray(waves(1920, 1080, 9)), quality=60)

    # JPEG variants (odd sizes so MCUs are partial).
    photo = Image.fromarray(smooth_rgb(97, 61, 10))
    files["jpeg_baseline_420.jpg"] = jpeg_bytes(photo, quality=90)
    files["jpeg_444.jpg"] = jpeg_bytes(photo, quality=90, subsampling=0)
    files["jpeg_422.jpg"] = jpeg_bytes(photo, quality=90, subsampling=1)
    files["jpeg_progressive.jpg"] = jpeg_bytes(photo, quality=90, progressive=True)
    files["jpeg_gray.jpg"] = jpeg_bytes(photo.convert("L"), quality=90)
    files["jpeg_gray_progressive.jpg"] = jpeg_bytes(photo.convert("L"), quality=90, progressive=True)
    files["jpeg_cmyk.jpg"] = jpeg_bytes(photo.convert("CMYK"), quality=90)
    files["jpeg_restart.jpg"] = jpeg_bytes(photo, quality=90, restart_marker_blocks=2)
    with Image.open(io.BytesIO(files["grace_hopper.jpg"])) as gh:
        files["grace_hopper_progressive.jpg"] = jpeg_bytes(gh.convert("RGB").resize((160, 188)), quality=80,
                                                           progressive=True)

    # PNG variants, 37 x 23.
    W, H = 37, 23
    g8 = textured(W, H, 1, 255, 20)[..., 0]
    files["png_gray1.png"] = write_png(textured(W, H, 1, 1, 21), 0, 1)
    files["png_gray2.png"] = write_png(textured(W, H, 1, 3, 22), 0, 2)
    files["png_gray4.png"] = write_png(textured(W, H, 1, 15, 23), 0, 4)
    files["png_gray8.png"] = write_png(g8, 0, 8)
    files["png_gray8_trns.png"] = write_png(g8, 0, 8, trns=struct.pack(">H", int(g8[0, 0])))
    g16 = textured(W, H, 1, 65535, 24)
    g16[0, :8, 0] = [0, 1, 100, 255, 256, 300, 4000, 65535]  # Pillow clamps I;16 -> 8 bit
    files["png_gray16.png"] = write_png(g16, 0, 16)
    files["png_gray16_interlaced.png"] = write_png(g16, 0, 16, interlace=True)
    files["png_gray_alpha8.png"] = write_png(textured(W, H, 2, 255, 25), 4, 8)
    files["png_gray_alpha16.png"] = write_png(textured(W, H, 2, 65535, 26), 4, 16)
    rgb8 = textured(W, H, 3, 255, 27)
    files["png_rgb8.png"] = write_png(rgb8, 2, 8)
    files["png_rgb8_trns.png"] = write_png(rgb8, 2, 8, trns=struct.pack(">HHH", *[int(v) for v in rgb8[0, 0]]))
    files["png_rgb16.png"] = write_png(textured(W, H, 3, 65535, 28), 2, 16)
    files["png_rgba8.png"] = write_png(textured(W, H, 4, 255, 29), 6, 8)
    files["png_rgba16.png"] = write_png(textured(W, H, 4, 65535, 30), 6, 16)
    files["png_rgb8_interlaced.png"] = write_png(rgb8, 2, 8, interlace=True)
    files["png_rgba8_interlaced.png"] = write_png(textured(W, H, 4, 255, 31), 6, 8, interlace=True)
    rng = np.random.default_rng(32)
    pal256 = rng.integers(0, 256, size=(256, 3))
    idx8 = textured(W, H, 1, 255, 33)[..., 0]
    files["png_palette8.png"] = write_png(idx8, 3, 8, palette=pal256)
    files["png_palette8_trns.png"] = write_png(idx8, 3, 8, palette=pal256, trns=bytes(range(0, 256, 2)))
    files["png_palette4.png"] = write_png(idx8 % 16, 3, 4, palette=pal256[:16])
    files["png_palette2_trns.png"] = write_png(idx8 % 4, 3, 2, palette=pal256[:4], trns=b"\x00\x80")
    files["png_palette1.png"] = write_png(idx8 % 2, 3, 1, palette=pal256[:2])
    files["png_palette8_interlaced.png"] = write_png(idx8, 3, 8, palette=pal256, interlace=True)
    files["png_1x1.png"] = write_png(np.array([[[1, 2, 3]]]), 2, 8)

    # Damaged and unsupported inputs: name -> expected error kind.
    errors = {}
    base_jpg = files["jpeg_baseline_420.jpg"]
    base_png = files["png_rgb8.png"]
    files["empty.jpg"] = b""
    errors["empty.jpg"] = "emptyInput"
    files["truncated_half.jpg"] = base_jpg[: len(base_jpg) // 2]
    errors["truncated_half.jpg"] = "truncated"
    files["truncated_header.jpg"] = base_jpg[:40]
    errors["truncated_header.jpg"] = "truncated"
    files["truncated.png"] = base_png[: len(base_png) * 2 // 3]
    errors["truncated.png"] = "truncated"
    files["truncated_signature.png"] = base_png[:12]
    errors["truncated_signature.png"] = "truncated"
    bad = bytearray(base_png)
    idat = bad.find(b"IDAT")
    for k in range(idat + 20, idat + 60):
        bad[k] ^= 0x5A
    files["corrupt_idat.png"] = bytes(bad)
    errors["corrupt_idat.png"] = "corrupt"
    garbage = bytearray(b"\xff\xd8\xff") + bytearray(random.Random(5).randbytes(3000))
    files["garbage.jpg"] = bytes(garbage)
    errors["garbage.jpg"] = "corrupt"
    # Headers that claim huge images: the limit must trip before any pixel allocation.
    files["huge_dims.png"] = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0,
                                                                                 0, 0))
                              + _chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + _chunk(b"IEND", b""))
    errors["huge_dims.png"] = "tooManyPixels"
    sof = base_jpg.find(b"\xff\xc0")
    hj = bytearray(base_jpg)
    hj[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    files["huge_dims.jpg"] = bytes(hj)
    errors["huge_dims.jpg"] = "tooManyPixels"
    small = Image.fromarray(smooth_rgb(20, 10, 40))
    for fmt, name in (("GIF", "image.gif"), ("WEBP", "image.webp"), ("BMP", "image.bmp"), ("TIFF", "image.tiff")):
        b = io.BytesIO()
        small.save(b, fmt)
        files[name] = b.getvalue()
        errors[name] = "unsupportedFormat:" + {"WEBP": "WebP"}.get(fmt, fmt)
    files["notes.txt"] = b"these are not the pixels you are looking for\n"
    errors["notes.txt"] = "unrecognizedFormat"

    for name, data in files.items():
        (inputs / name).write_bytes(data)

    # Expected decodes (Pillow) and Pillow's own verdict on the damaged files.
    decode = []
    for name in sorted(files):
        entry = {"file": name}
        if name in errors:
            entry["error"] = errors[name]
            try:
                with Image.open(inputs / name) as im:
                    im.convert("RGB")
                entry["pillow"] = "decoded by Pillow (PhiKit reads JPEG and PNG only)"
            except Exception as e:  # noqa: BLE001
                # Repo-relative paths in messages: the manifest must not record this machine's layout.
                entry["pillow"] = f"{type(e).__name__}: {e}".replace(str(ROOT) + "/", "")[:160]
        else:
            mode, rgb = pillow_rgb(inputs / name)
            entry.update(mode=mode, width=int(rgb.shape[1]), height=int(rgb.shape[0]), rgb_sha256=sha(rgb.tobytes()),
                         rgb_checksum=checksum(rgb))
            if rgb.size <= 3 * 64 * 64:
                entry["rgb"] = rgb.reshape(-1).tolist()
        decode.append(entry)

    # Processing: original processor on the decoded image.
    processing = []
    proc_names = ["grace_hopper.jpg", "minduka_rgba.png", "logo2_rgba.png", "tiny_12x40.png", "wide_3000x50.png",
                  "tall_60x2500.png", "square_448x448.png", "odd_641x479.png", "big_3000x2900.png",
                  "xga_1024x768.jpg", "hd_1920x1080.jpg", "jpeg_progressive.jpg", "png_palette8_trns.png",
                  "png_gray16.png"]
    sample_rng = np.random.default_rng(1234)
    sample_idx = np.sort(sample_rng.choice(3 * 448 * 448, GLOBAL_SAMPLES, replace=False))
    for name in proc_names:
        with Image.open(inputs / name) as im:
            out = ref.preprocess(im)
        pv = out["pixel_values"].numpy()
        hd = out["hd_uint8"]
        cols, rows = out["grid"]
        # Crops are exactly the normalized HD image; check that the reference agrees with itself.
        lut = ((torch.arange(256, dtype=torch.float32) / 255 - 0.5) / 0.5).numpy()
        crops = lut[hd].transpose(2, 0, 1).reshape(3, rows, 448, cols, 448).transpose(1, 3, 0, 2, 4)
        assert np.array_equal(crops.reshape(-1, 3, 448, 448), pv[1:]), name
        mask = out["attention_mask"].numpy()
        with Image.open(inputs / name) as im:
            assert ref.token_count(*im.size) == out["num_img_tokens"], name
        entry = {"file": name, "columns": cols, "rows": rows, "tokenCount": out["num_img_tokens"],
                 "imageSize": list(out["image_size"]), "hd_sha256": sha(hd.tobytes()), "hd_checksum": checksum(hd),
                 "mask_checksum": checksum(mask.astype(np.uint8)),
                 "global_indices": sample_idx.tolist(),
                 "global_values": [float(v) for v in pv[0].reshape(-1)[sample_idx]],
                 "global_sum": float(pv[0].astype(np.float64).sum()),
                 "global_abs_sum": float(np.abs(pv[0].astype(np.float64)).sum())}
        hd_png = io.BytesIO()
        Image.fromarray(hd).save(hd_png, "PNG", optimize=True)
        if hd_png.tell() <= HD_PNG_BUDGET:
            (hd_dir / (name.rsplit(".", 1)[0] + ".png")).write_bytes(hd_png.getvalue())
            entry["hd_png"] = name.rsplit(".", 1)[0] + ".png"
        processing.append(entry)
        print(f"{name}: grid {cols}x{rows}, tokens {out['num_img_tokens']}, hd png {hd_png.tell()} bytes")

    # Token counts: the worked examples of reference §4 and a sweep of sizes, incl. errors.
    sizes = [(448, 448), (1024, 768), (640, 480), (1920, 1080), (4000, 3000), (5000, 5000), (1, 1), (10, 10),
             (9, 9), (1000, 5), (5000, 9), (5000, 10), (16200, 15), (896, 896), (8192, 8192), (8160, 6120),
             (447, 449), (449, 447), (2688, 2688), (2689, 2688), (3000, 2900), (12, 40), (3000, 50), (60, 2500)]
    srng = random.Random(7)
    for _ in range(400):
        sizes.append((srng.randint(1, 9000), srng.randint(1, 9000)))
    for _ in range(100):
        sizes.append((srng.randint(1, 200), srng.randint(1, 20000)))
    for _ in range(100):
        sizes.append((srng.randint(2000, 40000), srng.randint(1, 300)))
    sweep = []
    for w, h in sizes:
        cols, rows = ref.grid_for(w, h)
        tw, th = 448 * cols, 448 * rows
        rw, rh = tw / w, th / h
        nw, nh = (tw, int(h * rw)) if rw < rh else (int(w * rh), th)
        extreme = min(nh, th) < 10 or min(nw, tw) < 10  # the original raises ValueError
        sweep.append([w, h, cols, rows, -1 if extreme else ref.token_count(w, h)])

    manifest = {
        "generator": "tools/media/make_image_fixtures.py",
        "regenerate": ".venv/bin/python tools/media/make_image_fixtures.py",
        "versions": versions | {"libjpeg_turbo (Pillow)": features.version("libjpeg_turbo"),
                                "python": sys.version.split()[0]},
        "decode": decode,
        "processing": processing,
        "tokenSweep": sweep,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, separators=(",", ":")))
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"fixtures: {total} bytes in {OUT}")
    if total > 4_000_000:
        sys.exit("fixtures exceed the 4 MB budget")


if __name__ == "__main__":
    main()
