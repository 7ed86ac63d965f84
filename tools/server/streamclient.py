"""The client side both load tests share (tools/server/load_test.py against one `phi4 serve`,
tools/scaleout/load_test.py through nginx): one streaming chat request and what became of it, percentiles, and the
readings of a server process (/metrics, /proc memory). Standard library only.

What counts as what, for every caller alike:
  done          the stream ended with `data: [DONE]`;
  error         a clean OpenAI-shaped error: an HTTP error with a JSON {"error": {...}} body, or such an event
                inside the stream (a failure after the 200 went out);
  disconnected  the client dropped the stream on purpose (random disconnects);
  lost          anything else: reset, timeout, a stream that stops without [DONE], bad SSE data, a non-OpenAI body.
"""
from __future__ import annotations

import http.client
import json
import re
import time
import urllib.request

KINDS = ("done", "error", "disconnected", "lost")


class Outcome:
    """What happened to one request."""

    def __init__(self, client: int | None = None, turn: int | None = None, key: str | None = None):
        self.client = client          # which client sent it
        self.turn = turn              # which of its requests it was
        self.key = key                # affinity key (conversation id or Authorization value), if any
        self.kind = None              # one of KINDS
        self.detail = ""
        self.status = None            # HTTP status
        self.upstream = None          # the replica that answered (nginx's X-PhiKit-Upstream header), if any
        self.ttft = None              # seconds to the first non-empty content delta
        self.seconds = None           # seconds to the end of the request
        self.text = ""
        self.content_events = 0       # data events that carried content


def is_openai_error(obj) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("error"), dict)
            and isinstance(obj["error"].get("message"), str) and isinstance(obj["error"].get("type"), str))


def stream_chat(host: str, port: int, body: dict, outcome: Outcome, headers: dict | None = None,
                drop_after: int | None = None, timeout: float = 60) -> Outcome:
    """Sends one streaming POST /v1/chat/completions and fills `outcome`. drop_after: None, or the number of SSE
    data events after which the client closes the connection (0: right after the response headers)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    start = time.monotonic()
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps(dict(body, stream=True)).encode(),
                     headers=dict(headers or {}, **{"Content-Type": "application/json"}))
        resp = conn.getresponse()
        outcome.status = resp.status
        outcome.upstream = resp.getheader("X-PhiKit-Upstream")
        if resp.status != 200:
            raw = resp.read()
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = None
            if is_openai_error(obj):
                outcome.kind, outcome.detail = "error", "HTTP %d %s" % (resp.status, obj["error"]["message"])
            else:
                outcome.kind, outcome.detail = "lost", "HTTP %d with a non-OpenAI body: %r" % (resp.status, raw[:120])
            return outcome
        if drop_after == 0:
            outcome.kind = "disconnected"
            return outcome
        events = 0
        while True:
            line = resp.readline()
            if not line:
                outcome.kind, outcome.detail = "lost", "stream ended without [DONE] after %d events" % events
                return outcome
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            if not line.startswith("data:"):
                continue  # blank separators and ": keep-alive" comments
            data = line[5:].strip()
            if data == "[DONE]":
                outcome.kind = "done"
                return outcome
            try:
                obj = json.loads(data)
            except ValueError:
                outcome.kind, outcome.detail = "lost", "bad SSE data %r" % data[:120]
                return outcome
            if is_openai_error(obj):
                outcome.kind, outcome.detail = "error", "in-stream " + obj["error"]["message"]
                return outcome
            for choice in obj.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece:
                    if outcome.ttft is None:
                        outcome.ttft = time.monotonic() - start
                    outcome.content_events += 1
                outcome.text += piece
            events += 1
            if drop_after is not None and events >= drop_after:
                outcome.kind = "disconnected"   # the socket closes mid-response below
                return outcome
    except (OSError, http.client.HTTPException) as e:
        outcome.kind, outcome.detail = "lost", "%s: %s" % (type(e).__name__, e)
        return outcome
    finally:
        outcome.seconds = time.monotonic() - start
        conn.close()


def by_kind(outcomes) -> dict[str, list[Outcome]]:
    return {k: [o for o in outcomes if o.kind == k] for k in KINDS}


def percentile(values, p: float) -> float:
    """The nearest-rank p-th percentile (p in 0...100); NaN for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    i = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[i]


def ttft_summary(outcomes) -> str:
    """p50/p99/max time to first token over the completed streams, in ms."""
    ttfts = [o.ttft for o in outcomes if o.kind == "done" and o.ttft is not None]
    return "time to first token over %d completed streams: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (
        len(ttfts), 1000 * percentile(ttfts, 50), 1000 * percentile(ttfts, 99), 1000 * (max(ttfts) if ttfts else 0))


def read_metrics(url: str) -> dict[str, float]:
    """Every sample of a server's Prometheus /metrics, keyed by name (labels dropped: PhiKit's have none)."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as r:
        text = r.read().decode()
    values = {}
    for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+([-0-9.eE+]+|NaN|[+-]Inf)\s*$", text, re.M):
        values[m.group(1)] = float(m.group(2))
    return values


def read_memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in MiB."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                fields[name] = int(value.split()[0]) / 1024  # kB -> MiB
    return fields
