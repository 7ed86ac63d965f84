#!/usr/bin/env python3
"""Parsing tests for tools/llamacpp/compare.py with a fake `phi4` (tests/fake_bench.py). No real benchmark runs.

    .venv/bin/python tools/llamacpp/tests/test_compare.py        # or: python -m pytest tools/llamacpp/tests
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import compare  # noqa: E402

FAKE = f"{sys.executable} {HERE / 'fake_bench.py'}"


def run_compare(mode: str, *extra: str) -> tuple[str, dict]:
    with tempfile.TemporaryDirectory() as d:
        model = Path(d) / "model.gguf"
        model.write_bytes(b"not a real gguf")
        out = Path(d) / "out.json"
        env = dict(os.environ, FAKE_BENCH_MODE=mode)
        cp = subprocess.run([sys.executable, str(HERE.parent / "compare.py"), str(model), "-t", "1", "2", "-r", "2",
                             "--phi4", FAKE, "--llamacpp-bench", FAKE, "--bandwidth-gbs", "40",
                             "--timeout", "10", "--out-json", str(out), *extra],
                            capture_output=True, text=True, env=env, timeout=120)
        assert cp.returncode == 0, cp.stderr
        return cp.stdout, json.loads(out.read_text())


def test_ok():
    table, data = run_compare("ok")
    rows = data["rows"]
    assert [r["threads"] for r in rows] == [1, 2]
    a, b = rows[1]["phikit"], rows[1]["llamacpp"]
    assert a["pp"] == 30.0 and a["tg"] == 6.0 and a["pp_sd"] == 0.5
    assert b["pp"] == 60.0 and b["tg"] == 10.0 and b["load_first"] == 2.0
    assert a["load_first_kind"] == "load only" and a["load_first"] == 1.25
    assert a["peak_rss"] == 3 * 2 ** 30 and b["peak_rss"] == 4 * 2 ** 30
    line = [l for l in table.splitlines() if l.startswith("| model.gguf | 2 ")][0]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[4] == "0.50x" and cells[7] == "0.60x", cells      # pp 30/60, tg 6/10
    assert cells[10] == "1.25 †" and cells[12] == "0.62x", cells   # load-only marker, 1.25/2.0
    assert cells[15] == "0.75x", cells                             # RSS 3/4 GiB
    assert cells[8] == "n/a"                                       # not a GGUF: no weight bytes, no %BW
    assert "† PhiKit reported load_seconds only" in table


def test_noise_and_nested():
    _, data = run_compare("noise")
    assert data["rows"][0]["phikit"]["tg"] == 3.0
    _, data = run_compare("nested")
    a = data["rows"][0]["phikit"]
    assert a["pp"] == 15.0 and a["peak_rss"] == 3 * 2 ** 30 and a["load_first"] == 1.25
    _, data = run_compare("firsttoken")
    a = data["rows"][0]["phikit"]
    assert a["load_first"] == 1.75 and a["load_first_kind"] == "load+first"


def test_failures_do_not_stop_the_run():
    for mode in ("fail", "garbage"):
        table, data = run_compare(mode)
        assert all(r["phikit"]["pp"] is None and r["llamacpp"]["tg"] is None for r in data["rows"])
        assert table.count("n/a") > 10
    table, data = run_compare("ok", "--phi4", "/nonexistent/phi4")
    assert data["rows"][0]["phikit"]["pp"] is None and data["rows"][0]["llamacpp"]["pp"] == 30.0


def test_timeout():
    table, data = run_compare("slow", "--timeout", "1", "-t", "1")
    assert "timeout" in data["raw"][0]["phikit"]["error"]


def test_summarize_units():
    obj = {"results": [{"test": "pp512", "tokens_per_second": 10}], "load_seconds": 2, "first_token_seconds": 1}
    s = compare.summarize(obj, 512, 128)
    assert s["pp"] == 10 and s["tg"] is None and s["load_first"] == 3
    assert compare.last_json_line('x\n{"a": 1}\n{"b": 2}\ntrailer') == {"b": 2}
    assert compare.last_json_line("nothing") is None


if __name__ == "__main__":
    n = 0
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
            n += 1
            print(f"ok {name}")
    print(f"{n} passed, 0 failed")
