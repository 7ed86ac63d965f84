"""Thin helpers over llama-cpp-python's low-level ctypes API (llama_cpp.llama_cpp), shared by the tools here.

Only the C API is used (llama_model_load_from_file, llama_init_from_model, llama_decode, llama_get_logits_ith,
llama_tokenize, ...), never the high-level `Llama` class: its eval() keeps no logits unless logits_all=True, and
it samples inside llama.cpp's sampler chain.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

import llama_cpp
import llama_cpp.llama_cpp as C

_BACKEND_READY = False
_LOG_CB = None


LOG_LINES: list[str] = []


def quiet_logs(enable: bool = True, capture: bool = False) -> None:
    """Silence llama.cpp's stderr logging (llama_log_set with our own callback); optionally keep the text in
    LOG_LINES (e.g. to read back what the context resolved, like "flash_attn = auto -> enabled")."""
    global _LOG_CB
    if not enable:
        return

    def _cb(level, text, user_data):  # noqa: ARG001
        if capture and text:
            LOG_LINES.append(text.decode("utf-8", "replace"))

    _LOG_CB = C.llama_log_callback(_cb)  # keep a reference alive
    C.llama_log_set(_LOG_CB, ctypes.c_void_p())


def backend_init() -> None:
    global _BACKEND_READY
    if not _BACKEND_READY:
        C.llama_backend_init()
        _BACKEND_READY = True


def load_model(path: str | os.PathLike, *, use_mmap: bool = True, n_gpu_layers: int = 0):
    backend_init()
    mp = C.llama_model_default_params()
    mp.use_mmap = use_mmap
    mp.n_gpu_layers = n_gpu_layers
    model = C.llama_model_load_from_file(str(path).encode(), mp)
    if not model:
        raise RuntimeError(f"llama_model_load_from_file failed for {path}")
    return model


FLASH_ATTN = {"auto": -1, "off": 0, "on": 1}


def new_context(model, *, n_ctx: int, n_batch: int, n_ubatch: int, n_threads: int, flash_attn: str = "auto",
                no_perf: bool = True):
    cp = C.llama_context_default_params()
    cp.n_ctx = n_ctx
    cp.n_batch = n_batch
    cp.n_ubatch = n_ubatch
    cp.n_seq_max = 1
    cp.n_threads = n_threads
    cp.n_threads_batch = n_threads
    cp.flash_attn_type = FLASH_ATTN[flash_attn]
    cp.no_perf = no_perf
    ctx = C.llama_init_from_model(model, cp)
    if not ctx:
        raise RuntimeError("llama_init_from_model failed")
    return ctx


class Batch:
    """A reusable llama_batch for one sequence (seq id 0)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.b = C.llama_batch_init(capacity, 0, 1)

    def fill(self, tokens, pos0: int, logits: str = "last") -> None:
        n = len(tokens)
        if n > self.capacity:
            raise ValueError(f"batch of {n} > capacity {self.capacity}")
        b = self.b
        b.n_tokens = n
        for i, t in enumerate(tokens):
            b.token[i] = int(t)
            b.pos[i] = pos0 + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = 1 if (logits == "all" or (logits == "last" and i == n - 1)) else 0

    def free(self) -> None:
        if self.b is not None:
            C.llama_batch_free(self.b)
            self.b = None


def decode(ctx, batch: Batch) -> None:
    rc = C.llama_decode(ctx, batch.b)
    if rc != 0:
        raise RuntimeError(f"llama_decode returned {rc}")


def n_vocab(model) -> int:
    return C.llama_vocab_n_tokens(C.llama_model_get_vocab(model))


def logits_last(ctx, nv: int) -> np.ndarray:
    """Copy of the logits of the last output row (float32, length n_vocab)."""
    ptr = C.llama_get_logits_ith(ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(nv,)).copy()


def memory_clear(ctx) -> None:
    C.llama_memory_clear(C.llama_get_memory(ctx), True)


def tokenize(model, text: str | bytes, *, add_special: bool, parse_special: bool) -> list[int]:
    vocab = C.llama_model_get_vocab(model)
    data = text.encode("utf-8") if isinstance(text, str) else text
    cap = len(data) + 16
    buf = (C.llama_token * cap)()
    n = C.llama_tokenize(vocab, data, len(data), buf, cap, add_special, parse_special)
    if n < 0:
        cap = -n
        buf = (C.llama_token * cap)()
        n = C.llama_tokenize(vocab, data, len(data), buf, cap, add_special, parse_special)
    if n < 0:
        raise RuntimeError("llama_tokenize failed")
    return [int(buf[i]) for i in range(n)]


def token_piece(model, token: int, special: bool = True) -> bytes:
    vocab = C.llama_model_get_vocab(model)
    buf = ctypes.create_string_buffer(256)
    n = C.llama_token_to_piece(vocab, token, buf, len(buf), 0, special)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = C.llama_token_to_piece(vocab, token, buf, len(buf), 0, special)
    return buf.raw[:n]


def meta(model) -> dict[str, str]:
    out = {}
    for i in range(C.llama_model_meta_count(model)):
        kb = ctypes.create_string_buffer(512)
        C.llama_model_meta_key_by_index(model, i, kb, len(kb))
        vb = ctypes.create_string_buffer(1 << 16)
        C.llama_model_meta_val_str_by_index(model, i, vb, len(vb))
        out[kb.value.decode("utf-8", "replace")] = vb.value.decode("utf-8", "replace")
    return out


def add_bos(model) -> bool:
    return bool(C.llama_vocab_get_add_bos(C.llama_model_get_vocab(model)))


def free(ctx=None, model=None) -> None:
    if ctx:
        C.llama_free(ctx)
    if model:
        C.llama_model_free(model)


def version() -> str:
    return llama_cpp.__version__


def system_info() -> str:
    return C.llama_print_system_info().decode()


def file_sha256(path: Path) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return h.hexdigest()
