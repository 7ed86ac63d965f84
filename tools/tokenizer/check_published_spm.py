#!/usr/bin/env python3
"""Optional check of PhiTokenizer's SentencePiece paths on a real published vocabulary: Mistral-7B-v0.1's
SentencePiece BPE model (32000 pieces, byte fallback, the Llama-2 layout), as PyPI's mistral-common ships it.

Pinned dev-time versions: mistral-common==1.13.1 (only its data file is used), sentencepiece==0.2.3, protobuf==7.36.2,
tokenizers==0.23.3. Writes into an ignored folder (nothing here is committed):
    .venv/bin/pip download --no-deps mistral-common==1.13.1 -d .models/wheels
    .venv/bin/python tools/tokenizer/check_published_spm.py --wheel .models/wheels/mistral_common-1.13.1-py3-none-any.whl \
        --out .models/mistral-spm
    PHIKIT_PUBLISHED_SPM=.models/mistral-spm swift test --disable-swift-testing --filter PublishedSentencePieceTests

Outputs: gguf_vocab.json (tokens, scores, token types as llama.cpp's converter writes them), tokenizer.json (the
Phi-3 / Llama-2 tokenizer.json layout, merges derived as transformers' converter does), encode.jsonl (the shared
corpus with sentencepiece ids, the llama.cpp SPM reference, and HF `tokenizers` ids for the tokenizer.json).
"""
import argparse
import importlib.util
import json
import os
import random
import sys
import tempfile
import zipfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
MEMBER = "mistral_common/data/tokenizer.model.v1"


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    spmfx = load(os.path.join(HERE, "make_spm_fixtures.py"))
    fx = load(os.path.join(HERE, "make_tokenizer_fixtures.py"))

    with zipfile.ZipFile(args.wheel) as z, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tokenizer.model")
        with open(path, "wb") as f:
            f.write(z.read(MEMBER))
        sp = spm.SentencePieceProcessor(model_file=path)
        proto = model_pb2.ModelProto()
        with open(path, "rb") as f:
            proto.ParseFromString(f.read())
    ns = proto.normalizer_spec
    print(f"{MEMBER}: {sp.get_piece_size()} pieces, model type {proto.trainer_spec.model_type}, normalizer "
          f"'{ns.name}', add_dummy_prefix {ns.add_dummy_prefix}, remove_extra_whitespaces {ns.remove_extra_whitespaces}, "
          f"byte_fallback {proto.trainer_spec.byte_fallback}", file=sys.stderr)

    n = sp.get_piece_size()
    tokens = [sp.id_to_piece(i) for i in range(n)]
    types = [2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 5 if sp.is_unused(i) else 1
             for i in range(n)]
    with open(os.path.join(args.out, "gguf_vocab.json"), "w") as f:
        json.dump({"tokens": tokens, "scores": [sp.get_score(i) for i in range(n)], "token_type": types,
                   "add_space_prefix": bool(ns.add_dummy_prefix)}, f, ensure_ascii=True)

    tok_json = spmfx.base_json(sp, "phi3")
    tok_json["added_tokens"] = tok_json["added_tokens"][:3]  # <unk>, <s>, </s>: Mistral has no Phi-3 tokens
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok_json, f, ensure_ascii=False)
    hf = spmfx.without_added(tok_json)

    corpus = spmfx.HAND_LINES + fx.make_corpus(random.Random(fx.SEED))
    rows, agree = [], 0
    for line in corpus:
        sp_ids = sp.encode(line)
        hf_ids = hf.encode(line, add_special_tokens=False).ids
        agree += sp_ids == hf_ids
        rows.append({"text": line, "sp_ids": sp_ids, "hf_ids": hf_ids})
    spmfx.dump_jsonl(os.path.join(args.out, "encode.jsonl"), rows)
    print(f"{len(rows)} lines; sentencepiece and HF tokenizer.json ids agree on {agree}", file=sys.stderr)


if __name__ == "__main__":
    main()
