#!/usr/bin/env python3
"""Print a GGUF file's metadata and tensor table (with the gguf package; no llama.cpp needed).

    .venv/bin/python tools/llamacpp/inspect_gguf.py bench-models/phi4mini-random-Q4_K_M.gguf
    .venv/bin/python tools/llamacpp/inspect_gguf.py FILE --tensors all      # every tensor, not only layer 0 + globals
    .venv/bin/python tools/llamacpp/inspect_gguf.py FILE --json             # one JSON object

Shapes are printed in ggml order (ne[0] first = the contiguous dimension), as llama.cpp logs them.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType


def field_value(f):
    t = f.types[0] if f.types else None
    if t == GGUFValueType.ARRAY:
        sub = f.types[-1]
        n = len(f.data)
        if sub == GGUFValueType.STRING:
            vals = [bytes(f.parts[i]).decode("utf-8", "replace") for i in f.data[:8]]
        else:
            vals = [f.parts[i].tolist()[0] for i in f.data[:8]]
        return {"array_of": sub.name, "len": n, "head": vals}
    if t == GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8", "replace")
    v = f.parts[f.data[0]].tolist()
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--tensors", choices=["summary", "all"], default="summary")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    r = GGUFReader(a.file)
    kv = {}
    for name, f in r.fields.items():
        if name.startswith("GGUF."):
            continue
        kv[name] = {"type": f.types[0].name if f.types else "?", "value": field_value(f)}
    tensors = [{"name": t.name, "type": t.tensor_type.name, "shape_ggml": [int(x) for x in t.shape],
                "offset": int(t.data_offset), "nbytes": int(t.n_bytes)} for t in r.tensors]
    types = collections.Counter(t["type"] for t in tensors)
    if a.json:
        json.dump({"kv": kv, "tensors": tensors, "type_counts": types}, sys.stdout, ensure_ascii=False, default=str)
        print()
        return
    print(f"# {a.file}: {len(kv)} KV, {len(tensors)} tensors, alignment {r.alignment}, data offset {r.data_offset}")
    for k, v in kv.items():
        val = v["value"]
        s = json.dumps(val, ensure_ascii=False, default=str)
        if len(s) > 160:
            s = s[:157] + "..."
        print(f"{k:50s} {v['type']:8s} {s}")
    print("# tensor types:", dict(types))
    for t in tensors:
        if a.tensors == "all" or not t["name"].startswith("blk.") or t["name"].startswith("blk.0."):
            print(f"{t['name']:32s} {t['type']:6s} {str(t['shape_ggml']):18s} offset={t['offset']} nbytes={t['nbytes']}")


if __name__ == "__main__":
    main()
