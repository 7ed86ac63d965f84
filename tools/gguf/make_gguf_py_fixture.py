#!/usr/bin/env python3
"""Writes tools/gguf/fixtures/gguf_py_tiny.gguf with gguf-py (the reference writer from llama.cpp).

Tests/PhiWeightsTests/GGUFReferenceTests.swift reads it and checks every metadata value and every tensor's bytes;
the values below are mirrored there, so change both together.

Regenerate:  .venv/bin/python tools/gguf/make_gguf_py_fixture.py   (needs gguf==0.19.0, numpy; see requirements.txt)
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

GGUF_VERSION = "0.19.0"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "gguf_py_tiny.gguf")


def pattern(n: int, seed: int) -> np.ndarray:
    """Raw block bytes: byte k is (k * 31 + seed) mod 251 (mirrored in Swift)."""
    return ((np.arange(n, dtype=np.int64) * 31 + seed) % 251).astype(np.uint8)


def main() -> None:
    from importlib.metadata import version
    if version("gguf") != GGUF_VERSION and "--allow-version-mismatch" not in sys.argv:
        sys.exit(f"gguf {version('gguf')} installed; this fixture is pinned to {GGUF_VERSION}")

    w = gguf.GGUFWriter(OUT, arch="llama")  # writes general.architecture = "llama"
    w.add_custom_alignment(64)
    w.add_name("tiny gguf-py fixture")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", 2**63 + 5)
    w.add_int64("test.i64", -(2**62))
    w.add_float32("test.f32", 0.25)
    w.add_float64("test.f64", 1e-300)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo ✓ GGUF")
    w.add_array("test.strings", ["a", "", "ünï"])
    w.add_array("test.ints", [1, -2, 3])              # gguf-py picks int32 for Python ints
    w.add_array("test.floats", [0.5, -1.5])           # float32
    w.add_array("test.nested", [[1, 2], [3]])         # array of arrays of int32
    w.add_uint32("llama.block_count", 1)
    w.add_float32("llama.rope.freq_base", 10000.0)

    # Plain types from values; quantized and BF16 tensors from raw uint8 rows of block bytes.
    w.add_tensor("f32", np.arange(6, dtype=np.float32).reshape(2, 3))
    w.add_tensor("f16", (np.arange(8, dtype=np.float32) / 4).astype(np.float16).reshape(2, 4))
    w.add_tensor("bf16", pattern(2 * 5 * 2, 3).reshape(2, 10), raw_dtype=Q.BF16)
    specs = [("q8_0", Q.Q8_0, 2, 64), ("q4_0", Q.Q4_0, 3, 32), ("q4_1", Q.Q4_1, 1, 64),
             ("q4_k", Q.Q4_K, 2, 256), ("q5_k", Q.Q5_K, 1, 256), ("q6_k", Q.Q6_K, 1, 512),
             ("q5_0", Q.Q5_0, 1, 32)]
    for seed, (name, qtype, rows, row_len) in enumerate(specs):
        block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        row_bytes = row_len // block_elems * block_bytes
        data = pattern(rows * row_bytes, seed + 10).reshape(rows, row_bytes)
        w.add_tensor(name, data, raw_dtype=qtype)  # uint8 rows: gguf-py derives [rows, row_len]

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes) with gguf {version('gguf')}")


if __name__ == "__main__":
    main()
