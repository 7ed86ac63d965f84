#!/usr/bin/env bash
# Speculative decoding (prompt-lookup drafts) vs plain decoding, single stream, same run:
# decode tokens/s of `phi4 run --draft lookup` and `--draft none` on an input-grounded task (rewrite a code file
# with a small change) and on free generation, plus the ratio. Greedy, so both outputs must be identical.
# Usage: tools/bench/speculative.sh PHI4_BINARY MODEL [THREADS] [MAX_TOKENS]
set -euo pipefail
phi4=$1 model=$2 threads=${3:-2} max=${4:-256}
cd "$(dirname "$0")/../.."
code=$(head -c 3000 Sources/PhiGeneration/StopStringMatcher.swift)
grounded="Rewrite the following Swift file exactly as it is, changing only the name StopStringMatcher to StopMatcher. Output only the code.

$code"
free="Write a long story about a lighthouse keeper who finds a message in a bottle."
for task in grounded free; do
  prompt=${!task}
  for mode in none lookup; do
    "$phi4" run --model "$model" -t "$threads" --max-tokens "$max" --json --draft "$mode" "$prompt" > "/tmp/spec-$task-$mode.json"
  done
  python3 - "$task" "/tmp/spec-$task-none.json" "/tmp/spec-$task-lookup.json" <<'PY'
import json, sys
task, a, b = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
same = a["generated_tokens"] == b["generated_tokens"]
ra, rb = a["decode_tokens_per_second"], b["decode_tokens_per_second"]
print(f"{task:9s} prompt {len(a['prompt_tokens']):5d} tok, generated {len(a['generated_tokens']):4d}: plain {ra:7.2f} tok/s, "
      f"lookup {rb:7.2f} tok/s, ratio {rb / ra:5.2f}x, accepted {b.get('accepted_draft_tokens')}/{b.get('drafted_tokens')} drafts, "
      f"identical output: {same}")
PY
done
