#!/usr/bin/env bash
# One-time setup for tools/server/bench_vs_llama_server.py (slow: ~40 min on 2 shared cores).
#   1. .venv with torch/transformers (fixture requirements), llama-cpp-python (native build) and gguf
#   2. bench-models/phi4mini-random-bf16 (full-size random Phi-4-mini) and its Q4_0 GGUF
#   3. llama-server built from the llama.cpp tree vendored in llama-cpp-python's sdist -> .build-llama/bin/llama-server
# Every step is skipped when its output exists. Run it niced: nice -n 10 tools/server/setup_bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/python ] || python3 -m venv .venv
PY=.venv/bin/python
# transformers (tokenizer only, no torch: the PyTorch wheel index may be unreachable) for the GGUF converter
if ! $PY -c "import transformers, jinja2" 2>/dev/null; then
  $PY -m pip install --quiet transformers==5.24.0 tokenizers==0.23.3 numpy==2.4.6 Jinja2==3.1.6 safetensors==0.8.0
fi
if ! $PY -c "import llama_cpp, gguf" 2>/dev/null; then
  CMAKE_ARGS="-DGGML_NATIVE=ON" CMAKE_BUILD_PARALLEL_LEVEL=2 \
    $PY -m pip install --quiet --no-binary llama-cpp-python -r tools/llamacpp/requirements.txt
fi
[ -f bench-models/phi4mini-random-bf16/model.safetensors.index.json ] || $PY tools/bench/make_random_phi4mini.py
[ -f bench-models/phi4mini-random-Q4_0.gguf ] || $PY tools/llamacpp/make_phi4mini_gguf.py --quant Q4_0 --no-check
if [ ! -x .build-llama/bin/llama-server ]; then
  $PY -m pip install --quiet cmake ninja
  mkdir -p .build-llama/src
  $PY -m pip download --quiet --no-deps --no-binary llama-cpp-python -d .build-llama/src "llama-cpp-python==0.3.36"
  tar -xzf .build-llama/src/llama_cpp_python-0.3.36.tar.gz -C .build-llama/src
  src=.build-llama/src/llama_cpp_python-0.3.36/vendor/llama.cpp
  PATH="$PWD/.venv/bin:$PATH" cmake -S "$src" -B .build-llama/cmake -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  PATH="$PWD/.venv/bin:$PATH" cmake --build .build-llama/cmake --target llama-server -j 2
  mkdir -p .build-llama/bin && cp .build-llama/cmake/bin/llama-server .build-llama/bin/
fi
echo "setup done: bench-models/phi4mini-random-Q4_0.gguf .build-llama/bin/llama-server"
