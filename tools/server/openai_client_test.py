#!/usr/bin/env python3
"""Drives `phi4 serve` with the official `openai` Python client, as users do.

    python3 -m venv .venv && .venv/bin/pip install -r tools/server/requirements.txt
    .venv/bin/python tools/server/openai_client_test.py --phi4 .build/debug/phi4

Starts `phi4 serve` on the tiny fixture models (Tests/PhiModelsTests/Fixtures) on 127.0.0.1 with a free port and an
API key, and checks: chat (stream and not, include_usage), completions, models, errors raising the client's own
exception classes, the tool round trip (call -> tool result -> answer; the random tiny model's outputs are forced
with the hidden --forced-outputs test flag, everything else is real), image and audio parts, and transcription and
translation in every response format (and streamed). Prints one line per check and a closing
"N passed, M failed" line; exits 1 on any failure.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import traceback
from pathlib import Path

import openai
from openai import OpenAI

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serverproc import PhiServe  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "PhiModelsTests" / "Fixtures"
MINI = FIXTURES / "phi4mini-tiny"
MM = FIXTURES / "phi4mm-tiny"
MEDIA = FIXTURES / "phi4mm-media"
KEY = "test-key-123"

results: list[tuple[str, bool, str]] = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, True, ""))
            print(f"PASS {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            results.append((name, False, repr(e)))
            print(f"FAIL {name}: {e!r}", flush=True)
            traceback.print_exc()
        return fn
    return wrap


class Server(PhiServe):
    """`phi4 serve` with the test's API key and an OpenAI client; SIGTERM must end it cleanly (exit 0)."""

    def __init__(self, phi4: str, model: Path, *extra: str, forced: list[str] | None = None):
        extra = ("--api-key", KEY, "-t", "2", *extra)
        if forced is not None:
            f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
            json.dump(forced, f)
            f.close()
            extra += ("--forced-outputs", f.name)
        super().__init__(phi4, str(model), *extra)

    def __enter__(self):
        super().__enter__()
        self.client = OpenAI(base_url=self.url + "/v1", api_key=KEY, max_retries=0, timeout=120)
        return self

    def __exit__(self, *exc):
        super().__exit__(*exc)
        code = self.exit_code
        results.append((f"graceful shutdown on SIGTERM ({Path(self.args[3]).name})", code == 0, f"exit {code}"))
        print(f"{'PASS' if code == 0 else 'FAIL'} graceful shutdown on SIGTERM: exit {code}", flush=True)


def expect(exc_type, fn, status=None):
    try:
        fn()
    except exc_type as e:
        if status is not None:
            assert e.status_code == status, f"status {e.status_code}, expected {status}"
        return e
    raise AssertionError(f"expected {exc_type.__name__}")


def text_model_checks(phi4: str):
    with Server(phi4, MINI) as s:
        c = s.client

        @check("models.list")
        def _():
            ids = [m.id for m in c.models.list()]
            assert ids == ["phi-4"], ids

        @check("chat non-streaming")
        def _():
            r = c.chat.completions.create(model="phi-4", messages=[{"role": "user", "content": "Hi!"}], max_tokens=8)
            assert r.object == "chat.completion"
            assert isinstance(r.choices[0].message.content, str)
            assert r.choices[0].finish_reason in ("stop", "length")
            assert 0 < r.usage.completion_tokens <= 8
            assert r.usage.prompt_tokens_details.cached_tokens >= 0

        @check("chat streaming equals non-streaming, include_usage")
        def _():
            msgs = [{"role": "user", "content": "Tell me a story"}]
            full = c.chat.completions.create(model="phi-4", messages=msgs, max_tokens=10).choices[0].message.content
            parts, finish, usage = [], None, None
            for chunk in c.chat.completions.create(model="phi-4", messages=msgs, max_tokens=10, stream=True,
                                                   stream_options={"include_usage": True}):
                if chunk.usage:
                    usage = chunk.usage
                for ch in chunk.choices:
                    parts.append(ch.delta.content or "")
                    finish = ch.finish_reason or finish
            assert "".join(parts) == full, ("".join(parts), full)
            assert finish in ("stop", "length")
            assert usage is not None and usage.completion_tokens > 0
            # Asked again, the prompt comes from the prefix cache.
            again = c.chat.completions.create(model="phi-4", messages=msgs, max_tokens=10)
            assert again.usage.prompt_tokens_details.cached_tokens > 0

        @check("completions")
        def _():
            r = c.completions.create(model="phi-4", prompt="Once upon a time", max_tokens=5)
            assert r.usage.completion_tokens == 5 and isinstance(r.choices[0].text, str)
            streamed = "".join(ch.choices[0].text for ch in c.completions.create(
                model="phi-4", prompt="Once upon a time", max_tokens=5, stream=True) if ch.choices)
            assert streamed == r.choices[0].text

        @check("errors raise the client's exception classes")
        def _():
            msgs = [{"role": "user", "content": "x"}]
            e = expect(openai.BadRequestError, lambda: c.chat.completions.create(model="phi-4", messages=msgs, n=2), 400)
            assert e.body and "n = 1" in str(e.body.get("message", "")), e.body
            expect(openai.BadRequestError, lambda: c.chat.completions.create(model="phi-4", messages=msgs, temperature=9))
            expect(openai.BadRequestError, lambda: c.chat.completions.create(model="phi-4", messages=[]))
            expect(openai.BadRequestError, lambda: c.chat.completions.create(
                model="phi-4", messages=[{"role": "user", "content": "word " * 5000}], max_tokens=1))
            bad = OpenAI(base_url=s.url + "/v1", api_key="wrong", max_retries=0)
            expect(openai.AuthenticationError, lambda: bad.models.list(), 401)
            expect(openai.NotFoundError, lambda: c.models.retrieve("gpt-9"), 404)
            expect(openai.NotFoundError, lambda: c.get("/nothing", cast_to=object), 404)
            expect(openai.BadRequestError, lambda: c.chat.completions.create(model="phi-4", messages=[
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]))

        @check("body over the limit is 413")
        def _():
            expect(openai.APIStatusError, lambda: c.chat.completions.create(
                model="phi-4", messages=[{"role": "user", "content": "x" * (33 << 20)}]), 413)


TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
CALL = '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris [FR]"}}]<|/tool_call|>'


def tool_checks(phi4: str):
    # Forced outputs, in request order: a call (non-streamed), the same call (streamed), then the answer.
    # Phi-4-multimodal tiny: its 8k context fits a tool list (the mini fixture has 64 positions).
    with Server(phi4, MM, forced=[CALL, CALL, "It is sunny in Paris."]) as s:
        c = s.client
        msgs = [{"role": "user", "content": "What's the weather in Paris?"}]

        @check("tool call (non-streaming) -> tool_calls, finish_reason tool_calls")
        def _():
            r = c.chat.completions.create(model="phi-4", messages=msgs, tools=TOOLS)
            ch = r.choices[0]
            assert ch.finish_reason == "tool_calls", ch
            call = ch.message.tool_calls[0]
            assert call.type == "function" and call.function.name == "get_weather" and call.id
            assert json.loads(call.function.arguments) == {"city": "Paris [FR]"}

        @check("tool call streamed as tool_calls deltas, then the round trip")
        def _():
            name, args, call_id, finish = "", "", None, None
            for chunk in c.chat.completions.create(model="phi-4", messages=msgs, tools=TOOLS, stream=True):
                for ch in chunk.choices:
                    for tc in ch.delta.tool_calls or []:
                        assert tc.index == 0
                        call_id = tc.id or call_id
                        if tc.function and tc.function.name:
                            name += tc.function.name
                        if tc.function and tc.function.arguments:
                            args += tc.function.arguments
                    finish = ch.finish_reason or finish
            assert finish == "tool_calls" and name == "get_weather" and call_id
            assert json.loads(args) == {"city": "Paris [FR]"}
            history = msgs + [
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
                {"role": "tool", "tool_call_id": call_id, "content": json.dumps({"sky": "sunny", "c": 21})},
            ]
            r = c.chat.completions.create(model="phi-4", messages=history, tools=TOOLS)
            assert r.choices[0].message.content == "It is sunny in Paris.", r.choices[0].message
            assert r.choices[0].finish_reason == "stop"


def wav_bytes() -> bytes:
    return (MEDIA / "audio_short.wav").read_bytes()


def multimodal_checks(phi4: str):
    with Server(phi4, MM) as s:
        c = s.client
        png = base64.b64encode((MEDIA / "image_A.png").read_bytes()).decode()
        wav = base64.b64encode(wav_bytes()).decode()

        @check("image part")
        def _():
            r = c.chat.completions.create(model="phi-4", max_tokens=4, messages=[{"role": "user", "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}]}])
            assert r.usage.prompt_tokens > 100, r.usage  # the image expanded to its tokens

        @check("audio part")
        def _():
            r = c.chat.completions.create(model="phi-4", max_tokens=4, messages=[{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}},
                {"type": "text", "text": "Summarize the audio."}]}])
            assert r.usage.prompt_tokens > 10 and r.usage.completion_tokens > 0

        @check("bad media raise BadRequestError")
        def _():
            expect(openai.BadRequestError, lambda: c.chat.completions.create(model="phi-4", messages=[{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": base64.b64encode(b"RIFF0000WAVEjunk").decode(), "format": "wav"}}]}]))
            expect(openai.BadRequestError, lambda: c.chat.completions.create(model="phi-4", messages=[{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": wav, "format": "mp3"}}]}]))

        audio = ("short.wav", wav_bytes(), "audio/wav")

        @check("transcription: json, text, verbose_json, srt, vtt")
        def _():
            j = c.audio.transcriptions.create(model="phi-4", file=audio)
            assert isinstance(j.text, str)
            t = c.audio.transcriptions.create(model="phi-4", file=audio, response_format="text")
            assert isinstance(t, str)
            v = c.audio.transcriptions.create(model="phi-4", file=audio, response_format="verbose_json",
                                              timestamp_granularities=["segment"], language="en")
            assert v.duration > 0 and len(v.segments) >= 1 and v.segments[0].end > v.segments[0].start
            srt = c.audio.transcriptions.create(model="phi-4", file=audio, response_format="srt")
            assert isinstance(srt, str)
            vtt = c.audio.transcriptions.create(model="phi-4", file=audio, response_format="vtt")
            assert vtt.startswith("WEBVTT")

        @check("transcription streamed as transcript.text.delta / done")
        def _():
            kinds, deltas, done = [], "", None
            for ev in c.audio.transcriptions.create(model="phi-4", file=audio, stream=True):
                kinds.append(ev.type)
                if ev.type == "transcript.text.delta":
                    deltas += ev.delta
                elif ev.type == "transcript.text.done":
                    done = ev.text
            assert kinds and kinds[-1] == "transcript.text.done", kinds
            assert done == deltas

        @check("translation, and word timestamps are a 400")
        def _():
            r = c.audio.translations.create(model="phi-4", file=audio)
            assert isinstance(r.text, str)
            expect(openai.BadRequestError, lambda: c.audio.transcriptions.create(
                model="phi-4", file=audio, response_format="verbose_json", timestamp_granularities=["word"]))
            expect(openai.BadRequestError, lambda: c.audio.transcriptions.create(
                model="phi-4", file=("x.wav", b"not audio", "audio/wav")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phi4", default=str(REPO / ".build" / "debug" / "phi4"))
    args = ap.parse_args()
    for group in (text_model_checks, tool_checks, multimodal_checks):
        try:
            group(args.phi4)
        except Exception as e:  # noqa: BLE001 - a server that cannot start fails its whole group
            results.append((group.__name__, False, repr(e)))
            print(f"FAIL {group.__name__}: {e!r}", flush=True)
    failed = [r for r in results if not r[1]]
    print(f"openai client test: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
