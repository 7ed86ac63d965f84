#!/usr/bin/env python3
"""Fuzzes `phi4 serve`'s request parsing on loopback: malformed JSON, wrong types, huge numbers, deep nesting,
invalid base64, truncated and malformed multipart, invalid UTF-8, enormous headers, truncated bodies, and seeded
random mutations of valid bodies, over every POST route.

    python3 tools/server/fuzz_requests.py --phi4 .build/debug/phi4 [--mutations 600]

A case fails when the server answers 500 (or any 5xx but 503), does not answer within --timeout (a hang), or is no
longer alive/healthy afterwards (a crash). Prints the count of cases and of failures; exit 1 on any failure.
Standard library only.
"""
from __future__ import annotations

import argparse
import base64
import json
import random
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serverproc import PhiServe  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "Tests" / "PhiModelsTests" / "Fixtures"


def raw_request(port: int, method: str, path: str, body: bytes, headers: dict[str, str] | None = None,
                declared_length: int | None = None, timeout: float = 30) -> int | None:
    """Sends bytes as they are; returns the status, 0 when the server closed without a response, None on timeout."""
    h = {"Host": "127.0.0.1", "Connection": "close"}
    h.update(headers or {})
    if "Content-Length" not in h:
        h["Content-Length"] = str(len(body) if declared_length is None else declared_length)
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head.encode("latin-1") + body)
        if declared_length is not None and declared_length > len(body):
            s.shutdown(socket.SHUT_WR)   # the body is cut short: the server must not wait forever
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return 0
            data += chunk
        return int(data.split(b" ", 2)[1])
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return 0
    finally:
        s.close()


def deep(n: int) -> bytes:
    return b'{"messages": ' + b"[" * n + b"]" * n + b"}"


def cases(rng: random.Random, mutations: int):
    chat = "/v1/chat/completions"
    valid = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    j = lambda o: json.dumps(o).encode()  # noqa: E731
    yield chat, j(valid), {}
    for b in [b"", b"{", b"}", b"[]", b"null", b"1", b'"x"', b"{'a': 1}", b'{"messages": [}', b"{\"messages\": [{]}",
              b"\xff\xfe\xfd", b'{"messages": "\xc3\x28"}', b'{"messages": [{"role": "user", "content": "\xed\xa0\x80"}]}',
              b'{"a":1,"a":2}', b'{"messages": [' + b'{"role":"user","content":"x"},' * 1000 + b"]}", deep(64), deep(600),
              deep(20000), b"{" * 50000, b"\x00" * 100]:
        yield chat, b, {}
    fields = {"model": [1, None, [], {}], "messages": [1, "x", {}, [1], [None], [{"role": 1}], [{"role": "user"}],
                                                        [{"role": "user", "content": 5}], [{"role": "user", "content": [5]}],
                                                        [{"role": "user", "content": [{"type": "image_url"}]}],
                                                        [{"role": "assistant", "tool_calls": 3}], [{"role": "tool", "content": []}]],
              "max_tokens": [-1, 0, 1.5, 1e308, 10**40, "10", True, [], -10**30],
              "temperature": [-1, 1e309 if False else 1e308, "x", None, [], float("nan") if False else 3],
              "top_p": [0, -1, 2, "a"], "seed": [1.5, 10**30, -10**30, "s"], "n": [0, 2, -1, 10**20],
              "stop": [1, [1], ["a"] * 10, {"a": 1}], "logprobs": ["yes", 2], "top_logprobs": [-1, 50, 10**10],
              "logit_bias": [1, {"x": 1}, {"-5": 1}, {"1": 1e9}, {"99999999999999999999": 1}],
              "stream": ["yes", 2, []], "stream_options": [1, {"include_usage": "x"}],
              "tools": [1, [1], [{"type": "code"}], [{"function": {"name": 5}}], [{"function": {"name": "f", "parameters": 3}}]],
              "tool_choice": [1, "always", {"function": {"name": "nope"}}, {"type": "function"}],
              "response_format": [1, {"type": "yaml"}, {"type": "json_schema"}, {"type": "json_schema", "json_schema": {"schema": 5}},
                                  {"type": "json_schema", "json_schema": {"schema": {"type": "object", "patternProperties": {"a": {}}}}}],
              "presence_penalty": [5, "x"], "frequency_penalty": [-5, []]}
    for k, vals in fields.items():
        for v in vals:
            o = dict(valid)
            o[k] = v
            yield chat, j(o), {}
    img = lambda url: {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]}  # noqa: E731
    png = base64.b64encode((FIX / "phi4mm-media" / "image_A.png").read_bytes()).decode()
    for url in ["data:image/png;base64,", "data:image/png;base64,!!!!", "data:image/png," + png, "data:;base64," + png[:100],
                "data:image/png;base64," + png[: len(png) // 2], "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode(),
                "file:///etc/passwd", "http://127.0.0.1:1/x.png", "ftp://x", "javascript:1", "", "data:" + "A" * 100000]:
        yield chat, j(img(url)), {}
    for data in ["", "!!", "UklGRg==", base64.b64encode(b"RIFF\xff\xff\xff\xffWAVEfmt ").decode(),
                 base64.b64encode(b"fLaC" + bytes(40)).decode()]:
        yield chat, j({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}]}]}), {}
    comp = "/v1/completions"
    for p in [None, 1, [], [1, "a"], [[1, 2]], [-1], [10**12], "", "x" * 3000, ["a", "b"]]:
        yield comp, j({"prompt": p, "max_tokens": 2}), {}
    # Multipart: truncated, bad boundary, no file, bad audio, bad fields.
    wav = (FIX / "phi4mm-media" / "audio_short.wav").read_bytes()
    for route in ["/v1/audio/transcriptions", "/v1/audio/translations"]:
        def form(parts, boundary="XyZ", close=True):
            b = b""
            for name, value, filename in parts:
                disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
                b += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + value + b"\r\n"
            return b + (f"--{boundary}--\r\n".encode() if close else b"")
        ct = {"Content-Type": "multipart/form-data; boundary=XyZ"}
        full = form([("file", wav, "a.wav"), ("model", b"phi-4", None)])
        yield route, full[: len(full) // 2], ct
        yield route, form([("file", wav, "a.wav")], close=False), ct
        yield route, full, {"Content-Type": "multipart/form-data"}
        yield route, full, {"Content-Type": "application/json"}
        yield route, form([("model", b"phi-4", None)]), ct
        yield route, form([("file", b"not audio", "a.wav")]), ct
        yield route, form([("file", wav, "a.wav"), ("response_format", b"docx", None)]), ct
        yield route, form([("file", wav, "a.wav"), ("timestamp_granularities[]", b"word", None)]), ct
        yield route, form([("file", wav, "a.wav"), ("temperature", b"hot", None)]), ct
        yield route, form([("file", wav[:60], "a.wav")]), ct
        yield route, b"--XyZ\r\n\r\n\r\n--XyZ--", ct
        yield route, b"\xff" * 1000, ct
    # Enormous headers.
    yield chat, j(valid), {"X-Big": "a" * 200_000}
    yield chat, j(valid), {f"X-H{i}": "v" for i in range(3000)}
    yield chat, j(valid), {"Authorization": "Bearer " + "k" * 100_000}
    # Seeded random mutations of valid bodies.
    seeds = [j(valid), j({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "t"}]}],
                          "stream": True, "max_tokens": 3, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}),
             j(img("data:image/png;base64," + png[:200]))]
    for _ in range(mutations):
        b = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            pos = rng.randrange(len(b))
            if op < 0.4:
                b[pos] = rng.randrange(256)
            elif op < 0.6:
                del b[pos: pos + rng.randint(1, 8)]
            elif op < 0.8:
                b[pos:pos] = rng.choice([b"[", b"{", b'"', b"\\", b"9" * 40, b"-", b"\xff", b"null", b",", b"e999"])
            else:
                b = b[:pos]
            if not b:
                b = bytearray(b"{")
        yield chat, bytes(b), {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phi4", default=str(REPO / ".build" / "debug" / "phi4"))
    ap.add_argument("--model", default=str(FIX / "phi4mm-tiny"))
    ap.add_argument("--mutations", type=int, default=600)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    count, failures, statuses = 0, [], {}
    with PhiServe(args.phi4, args.model, "--max-tokens", "8", "--max-body-bytes", str(8 << 20), "-t", "2") as s:
        for path, body, headers in cases(rng, args.mutations):
            count += 1
            status = raw_request(s.port, "POST", path, body, headers, timeout=args.timeout)
            statuses[status] = statuses.get(status, 0) + 1
            if status is None or (status >= 500 and status != 503) or not s.alive():
                failures.append((path, status, body[:80]))
                if not s.alive():
                    break
        # Truncated bodies: Content-Length promises more than is sent, then the client stops writing.
        for n in [10, 1000, 1 << 20]:
            count += 1
            status = raw_request(s.port, "POST", "/v1/chat/completions", b'{"messages": [', declared_length=n, timeout=args.timeout)
            statuses[status] = statuses.get(status, 0) + 1
            if status is None or (status >= 500 and status != 503):
                failures.append(("truncated", status, n))
        healthy = raw_request(s.port, "GET", "/health", b"") == 200
    print(f"fuzz cases: {count}, statuses: {dict(sorted(statuses.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))}")
    print(f"failures (5xx other than 503, hangs, crash): {len(failures)}; healthy after: {healthy}; exit code on SIGTERM: {s.exit_code}")
    for f in failures[:10]:
        print("  ", f)
    return 0 if not failures and healthy and s.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
