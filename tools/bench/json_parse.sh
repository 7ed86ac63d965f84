#!/bin/sh
# Parse-time benchmark of PhiJSON against Foundation's JSONSerialization on one file (default: the Phi-4
# tokenizer.json fixture, 7 MB). Builds PhiJSON's sources and tools/bench/json/main.swift as one optimized module.
# Usage: tools/bench/json_parse.sh [FILE.json] [ROUNDS] [EXTRA.swift ...]
#   EXTRA.swift files are compiled in with -DOLD_JSON_READER (how the old tokenizer JSONReader was compared).
set -e
cd "$(dirname "$0")/../.."
file=${1:-Tests/PhiTokenizerTests/Fixtures/tokenizer.json}
rounds=${2:-20}
[ $# -ge 2 ] && shift 2 || shift $#
out=.build/json_parse_bench
mkdir -p .build
flags=""
[ $# -gt 0 ] && flags="-DOLD_JSON_READER"
swiftc -O -wmo $flags -module-name JSONBench Sources/PhiJSON/*.swift tools/bench/json/main.swift "$@" -o "$out"
"$out" "$file" "$rounds"
