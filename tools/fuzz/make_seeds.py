#!/usr/bin/env python3
"""Writes the fuzz seed corpora (tools/fuzz/corpus/TARGET) and the regression inputs of issue 10
(tools/fuzz/regressions/TARGET), overwriting only the files it makes. Deterministic for given numpy and soundfile
versions (the float WAV seeds follow libsndfile's version). Needs numpy and soundfile
(for the WAV/FLAC seeds): python3 -m venv .venv && .venv/bin/pip install numpy soundfile."""
import io
import json
import os
import shutil
import struct
import sys

import numpy as np
import soundfile as sf

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FUZZ = os.path.join(ROOT, "tools", "fuzz")


def put(kind, target, name, data):
    d = os.path.join(FUZZ, kind, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def seed(target, name, data):
    put("corpus", target, name, data)


def regression(target, name, data):
    put("regressions", target, name, data)


def fixture(*parts):
    with open(os.path.join(ROOT, "Tests", *parts), "rb") as f:
        return f.read()


# ---- GGUF (v3): string = u64 length + bytes; tensor data aligned to 32 ----
GT = {"u8": 0, "i8": 1, "u16": 2, "i16": 3, "u32": 4, "i32": 5, "f32": 6, "bool": 7, "str": 8, "arr": 9, "u64": 10, "i64": 11, "f64": 12}
FMT = {"u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I", "i32": "<i", "f32": "<f", "bool": "<?", "u64": "<Q", "i64": "<q", "f64": "<d"}


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gval(kind, v):
    if kind == "str":
        return gstr(v)
    if isinstance(kind, tuple):  # ("arr", element kind)
        ek = kind[1]
        return struct.pack("<IQ", GT[ek], len(v)) + b"".join(gval(ek, x) for x in v)
    return struct.pack(FMT[kind], v)


def gguf(kvs, tensors):
    """kvs: [(key, kind, value)]; tensors: [(name, dims, ggml type, raw bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, kind, v in kvs:
        t = GT["arr"] if isinstance(kind, tuple) else GT[kind]
        out += gstr(k) + struct.pack("<I", t) + gval(kind, v)
    offset, blobs = 0, b""
    for name, dims, ty, raw in tensors:
        out += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ty, offset)
        pad = (-len(raw)) % 32
        blobs += raw + b"\0" * pad
        offset += len(raw) + pad
    out += b"\0" * ((-len(out)) % 32)
    return out + blobs


def f32(values):
    return np.asarray(values, dtype="<f4").tobytes()


def llama_kvs(heads=2, kv_heads=1, rope=8):
    return [("general.architecture", "str", "llama"), ("llama.block_count", "u32", 1),
            ("llama.context_length", "u32", 64), ("llama.embedding_length", "u32", 16),
            ("llama.feed_forward_length", "u32", 32), ("llama.attention.head_count", "u64", heads),
            ("llama.attention.head_count_kv", "u32", kv_heads), ("llama.rope.dimension_count", "u32", rope),
            ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5), ("llama.rope.freq_base", "f32", 10000.0)]


def gguf_seeds():
    q8 = struct.pack("<e", 0.5) + bytes(range(32))  # one Q8_0 block: f16 scale + 32 int8
    q4 = struct.pack("<e", 0.25) + bytes(range(16))  # one Q4_0 block: f16 scale + 16 bytes of nibbles
    seed("gguf", "f32_f16.gguf", gguf([("general.architecture", "str", "llama"), ("general.alignment", "u32", 32)],
                                      [("a", [4], 0, f32([1, 2, 3, 4])), ("b", [2, 2], 1, np.asarray([1, 2, 3, 4], "<f2").tobytes())]))
    seed("gguf", "quant.gguf", gguf([("general.architecture", "str", "llama")],
                                    [("q8", [32], 8, q8), ("q4", [32, 1], 2, q4),
                                     ("bf", [2], 30, np.asarray([1, 2], "<f4").view("<u2")[1::2].tobytes())]))
    tokens = ["a", "b", "c", "ab", "abc", "Ġ", "<|endoftext|>", "<|user|>"]
    seed("gguf", "tokenizer.gguf", gguf(
        llama_kvs() + [("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.pre", "str", "smollm"),
                       ("tokenizer.ggml.tokens", ("arr", "str"), tokens),
                       ("tokenizer.ggml.token_type", ("arr", "i32"), [1, 1, 1, 1, 1, 1, 3, 4]),
                       ("tokenizer.ggml.merges", ("arr", "str"), ["a b", "ab c"]),
                       ("tokenizer.ggml.bos_token_id", "u32", 6), ("tokenizer.ggml.eos_token_id", "u32", 6),
                       ("tokenizer.ggml.add_bos_token", "bool", False)],
        [("token_embd.weight", [16, 8], 0, f32(np.zeros(128)))]))
    # Finding 2: a llama GGUF whose head count (2^59 + 3) times the head size wraps to the real tensor sizes.
    regression("gguf", "finding2_head_count.gguf", gguf(llama_kvs(heads=2**59 + 3, kv_heads=1, rope=32),
                                                        [("token_embd.weight", [16, 8], 0, f32(np.zeros(128)))]))


# ---- safetensors ----
def safetensors(entries, metadata=None):
    header, data = {}, b""
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


def safetensors_seeds():
    seed("safetensors", "mixed.safetensors", safetensors([
        ("f32", "F32", [2, 2], f32([1, 2, 3, 4])),
        ("bf16", "BF16", [3], np.asarray([1, 2, 3], "<f4").view("<u2")[1::2].tobytes()),
        ("f16", "F16", [1, 2], np.asarray([0.5, -2], "<f2").tobytes()),
        ("scalar", "F32", [], f32([7])), ("empty", "F32", [0, 4], b"")], metadata={"format": "pt"}))
    seed("safetensors", "one.safetensors", safetensors([("w", "F32", [2], f32([1, 2]))]))
    seed("safetensors-index", "index.json", json.dumps(
        {"metadata": {"total_size": 8}, "weight_map": {"w": "model-00001-of-00001.safetensors"}}).encode())
    seed("safetensors-index", "index_two.json", json.dumps(
        {"metadata": {"total_size": 16}, "weight_map": {"w": "model-00001-of-00001.safetensors",
                                                       "v": "model-00002-of-00002.safetensors"}}).encode())


# ---- npy ----
def npy_seeds():
    for name, arr, version in [("f4.npy", np.arange(6, dtype="<f4").reshape(2, 3), (1, 0)),
                               ("f2.npy", np.arange(4, dtype="<f2"), (1, 0)),
                               ("f8_v2.npy", np.arange(3, dtype="<f8"), (2, 0)),
                               ("scalar_v3.npy", np.array(1.5, dtype="<f4"), (3, 0))]:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr, version=version)
        seed("npy", name, buf.getvalue())


# ---- audio ----
def audio_bytes(samples, rate, fmt, subtype, **kw):
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format=fmt, subtype=subtype, **kw)
    return buf.getvalue()


def audio_seeds():
    rng = np.random.default_rng(10)
    mono = (0.3 * np.sin(np.arange(400) * 0.05) + 0.05 * rng.standard_normal(400)).astype("f8")
    stereo = np.stack([mono, mono[::-1]], axis=1)
    for name, data, sub in [("pcm16_mono.wav", mono, "PCM_16"), ("pcm24_stereo.wav", stereo, "PCM_24"),
                            ("pcm32.wav", mono, "PCM_32"), ("u8.wav", stereo, "PCM_U8"),
                            ("float.wav", mono, "FLOAT"), ("double.wav", mono[:100], "DOUBLE")]:
        seed("wav", name, audio_bytes(data, 16000, "WAV", sub))
    seed("wav", "rf64.wav", audio_bytes(mono[:200], 22050, "RF64", "PCM_16"))
    for f in ["header_only.wav", "huge_data_size.wav", "no_fmt.wav", "alaw.wav", "bad_block_align.wav", "nan_float.wav",
              "chunks_odd.wav", "pcm_12in16.wav"]:
        seed("wav", f, fixture("PhiMediaTests", "Fixtures", "audio", f))
    for name, data, sub, rate in [("pcm16_mono.flac", mono, "PCM_16", 16000), ("pcm16_stereo.flac", stereo, "PCM_16", 44100),
                                  ("pcm24_stereo.flac", stereo, "PCM_24", 48000), ("pcm8.flac", mono, "PCM_S8", 8000)]:
        seed("flac", name, audio_bytes(data, rate, "FLAC", sub))
    seed("flac", "silence.flac", audio_bytes(np.zeros(300), 16000, "FLAC", "PCM_16"))
    # Finding 4: the FLAC decompression bomb in small (same frame as the issue's 1.1 MB file, 100 copies): 768 kHz mono
    # 16-bit, block size 65,535, CONSTANT subframes, total unknown. tests/HostileMediaTests builds the full size.
    regression("flac", "finding4_bomb_small.flac", flac_bomb(100))


def crc8(b):
    c = 0
    for x in b:
        c ^= x
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def crc16(b):
    c = 0
    for x in b:
        c ^= x << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x8005) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
    return c


def flac_bomb(frames, rate=768000, total=0):
    out = b"fLaC" + bytes([0x80, 0, 0, 34]) + b"\xff\xff\xff\xff" + bytes(6)
    out += (rate << 44 | 0 << 41 | 15 << 36 | total).to_bytes(8, "big") + bytes(16)
    frame = bytes([0xFF, 0xF8, 0x70, 0x00, 0x00, 0xFF, 0xFE])
    frame += bytes([crc8(frame)]) + bytes([0x00, 0x12, 0x34])
    frame += crc16(frame).to_bytes(2, "big")
    assert len(frame) == 13
    return out + frame * frames


# ---- images, configs, tokenizers ----
def copy_seeds():
    images = os.path.join(ROOT, "Tests", "PhiMediaTests", "Fixtures", "images", "inputs")
    for f in sorted(os.listdir(images)):
        p = os.path.join(images, f)
        if f.endswith((".png", ".jpg")) and os.path.getsize(p) <= 3100:
            shutil.copy(p, os.path.join(FUZZ, "corpus", "image", f))
    models = os.path.join(ROOT, "Tests", "PhiModelsTests", "Fixtures")
    for d in sorted(os.listdir(models)):
        p = os.path.join(models, d, "config.json")
        if os.path.exists(p):
            seed("config", d + ".json", open(p, "rb").read())
    # Finding 1: head counts and head_dim whose products wrap modulo 2^64 to the fixture's real tensor sizes.
    cfg = json.load(open(os.path.join(models, "phi4mini-tiny-bf16", "config.json")))
    cfg.update(num_attention_heads=456724697139573, num_key_value_heads=152241565713191, head_dim=33849730896608,
               partial_rotary_factor=12 / 33849730896608, rope_scaling=None)
    regression("config", "finding1_head_overflow.json", json.dumps(cfg, indent=2).encode())
    small = os.path.join(ROOT, "Tests", "PhiTokenizerTests", "Fixtures", "small")
    for f in ["gpt2.json", "llama3.json", "fallback.json"]:
        seed("tokenizer", f, open(os.path.join(small, f), "rb").read())
    tc = json.dumps({"add_bos_token": True, "bos_token": "<s>", "eos_token": "</s>", "chat_template": "{{ x }}"}).encode()
    seed("tokenizer", "gpt2_with_config.json", open(os.path.join(small, "gpt2.json"), "rb").read() + b"\n\0\n" + tc)


def tokenizer_regressions():
    """Issue 10's tokenizer findings 3, 5 and 7 (each now a clear error or a linear-time result)."""
    model = {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
    base = {"model": model, "pre_tokenizer": byte_level, "decoder": {"type": "ByteLevel"}}
    # Finding 3 (the issue's file has 44,000 steps, 0.9 MB; 500 take the same path and keep the file small).
    steps = [{"type": "Digits", "individual_digits": True}] * 500
    regression("tokenizer", "finding3_long_sequence.json",
               json.dumps(dict(base, pre_tokenizer={"type": "Sequence", "pretokenizers": steps})).encode())
    # Finding 5: a Split regex that backtracks exponentially in ICU.
    split = {"type": "Split", "pattern": {"Regex": "(a+)+$"}, "behavior": "Isolated"}
    regression("tokenizer", "finding5_backtracking_regex.json",
               json.dumps(dict(base, pre_tokenizer={"type": "Sequence", "pretokenizers": [split, byte_level]})).encode())
    # Finding 5: many added tokens sharing a prefix (the harness encodes with parse_special).
    added = [{"id": 3 + i, "content": "<" * (i + 1), "special": True} for i in range(120)]
    regression("tokenizer", "finding5_nested_added_tokens.json", json.dumps(dict(base, added_tokens=added)).encode())
    # Finding 7: one id of 16,777,215.
    sparse = dict(model, vocab={"a": 0, "b": 16777215}, merges=[])
    regression("tokenizer", "finding7_sparse_id.json", json.dumps(dict(base, model=sparse)).encode())


def chat_http_seeds():
    """tokenizer_config.json + tool list + model output (chat), and HTTP request bodies (http)."""
    sep = b"\n\0\n"
    config = {"add_bos_token": False, "bos_token": "<|endoftext|>", "eos_token": {"content": "<|end|>"},
              "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
              "added_tokens_decoder": {"10": {"content": "<|tool|>", "special": True, "rstrip": True},
                                       "11": {"content": "<|/tool|>", "special": True}}}
    phi_tools = [{"name": "get_weather", "description": "Weather by city",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
    openai_tools = [{"type": "function", "function": dict(phi_tools[0])}]
    call = '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>'
    seed("chat", "phi_tools.bin", json.dumps(config).encode() + sep + json.dumps(phi_tools).encode() + sep + call.encode())
    seed("chat", "openai_tools.bin", json.dumps({"chat_template": [{"name": "default", "template": "T"}]}).encode()
         + sep + json.dumps(openai_tools).encode() + sep + b'Sure. {"name": "get_weather", "parameters": {"city": "Oslo"}}')
    seed("chat", "config_only.bin", json.dumps(config).encode())
    chat = {"model": "phi-4-mini", "stream": True, "stream_options": {"include_usage": True}, "max_tokens": 64,
            "temperature": 0.7, "top_p": 0.9, "seed": 7, "stop": ["\n\n"], "logprobs": True, "top_logprobs": 2,
            "logit_bias": {"42": -100}, "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "What is here?"},
                                             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                                             {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}],
            "tools": openai_tools, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
    seed("http", "chat_full.bin", b"\0" + json.dumps(chat).encode())
    schema = {"model": "m", "messages": [{"role": "user", "content": "JSON please"}],
              "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {
                  "type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}}
    seed("http", "chat_schema.bin", b"\0" + json.dumps(schema).encode())
    person = {"$defs": {"p": {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 20}, "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}, "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"enum": ["a", "b", None, 1]}, "maxItems": 3},
        "code": {"type": "string", "pattern": "^[A-Z]{2}-\\d+$"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/p"}}},
        "required": ["name", "age"], "additionalProperties": False}}, "$ref": "#/$defs/p"}
    seed("constraint", "schema.bin", b"\0" + json.dumps(person).encode())
    seed("constraint", "schema_any.bin", b"\4" + json.dumps({"anyOf": [{"type": ["integer", "null"], "exclusiveMaximum": -3},
                                                                   {"const": {"k": [1, True]}}, True]}).encode())
    seed("constraint", "regex.bin", b"\1" + rb"(yes|no)[ \t]?\d{1,3}(\.\d+)?[^\x00-\x1f]*\p{L}+")
    seed("constraint", "grammar.bin", b"\2" + b'root ::= item ("," item)*\nitem ::= [a-z]+ | "\\"" [^"]* "\\"" | num\nnum ::= "-"? [0-9]{1,4}\n')
    seed("constraint", "tools.bin", b"\3" + json.dumps(phi_tools).encode())
    seed("constraint", "tools_openai.bin", b"\7" + json.dumps(openai_tools).encode())
    completion = {"model": "m", "prompt": "Once upon", "max_tokens": 8, "temperature": 0, "stop": "\n", "logprobs": 2,
                  "stream": True, "stream_options": {"include_usage": True}}
    seed("http", "completion.bin", b"\1" + json.dumps(completion).encode())
    seed("http", "completion_tokens.bin", b"\1" + json.dumps({"prompt": [1, 2, 3], "seed": -1}).encode())
    boundary = "XyZ123"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nphi-4-mm\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\nverbose_json\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"timestamp_granularities[]\"\r\n\r\nsegment\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode() + b"RIFF\x24\0\0\0WAVE" + f"\r\n--{boundary}--\r\n".encode()
    seed("http", "multipart.bin", b"\2" + f"multipart/form-data; boundary={boundary}\n".encode() + form)


if __name__ == "__main__":
    # Overwrites its own files only: the corpora also hold committed inputs from fuzz runs, and regressions/ the
    # reproducers added with each fix, which this script does not know how to make.
    os.makedirs(os.path.join(FUZZ, "corpus", "image"), exist_ok=True)
    gguf_seeds()
    safetensors_seeds()
    npy_seeds()
    audio_seeds()
    copy_seeds()
    tokenizer_regressions()
    chat_http_seeds()
    total = sum(os.path.getsize(os.path.join(dp, f)) for k in ("corpus", "regressions")
                for dp, _, fs in os.walk(os.path.join(FUZZ, k)) for f in fs)
    print(f"wrote seeds and regressions: {total} bytes", file=sys.stderr)
