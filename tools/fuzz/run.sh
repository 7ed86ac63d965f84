#!/usr/bin/env bash
# Coverage-guided fuzzing of PhiKit's parsers with libFuzzer (Linux, the Swift toolchain's clang).
#
#   tools/fuzz/run.sh TARGET SECONDS [libFuzzer flags…]   fuzz one target for SECONDS (0: only replay the inputs)
#   tools/fuzz/run.sh all SECONDS                           every target in turn, SECONDS each
#   tools/fuzz/run.sh --build                               build every target
#   tools/fuzz/run.sh --list                                list the targets
#
# Targets: gguf safetensors safetensors-index npy wav flac image config tokenizer chat http constraint (Swift harnesses in
# tools/fuzz/Targets, release optimisation of PhiKit plus AddressSanitizer and libFuzzer coverage; the C code in
# the package also gets UBSan) and codecs (the C image shims of Sources/CPhiMedia alone, clang with ASan+UBSan).
# Each run first replays the committed seeds (tools/fuzz/corpus/TARGET) and issue 10's regression inputs
# (tools/fuzz/regressions/TARGET), then mutates; new interesting inputs go to .build/fuzz-corpus/TARGET (ignored)
# and crashes to .build/fuzz-artifacts/TARGET. Exit status is non-zero when an input crashes, exceeds the memory
# limit (2 GB) or runs over the per-input timeout (10 s). Runs under `nice` unless FUZZ_NICE=0.
# Leaks are not checked: LeakSanitizer reports the Swift runtime's lazily made globals (an indirect enum's boxes held
# by a `static let`) as direct leaks. So libFuzzer's leak pass is off too (-detect_leaks=0): with it on, every input
# after which more was allocated than freed ran a second time for a leak check that could never report.
# After each target a line "== summary TARGET: N executions in S s, cov C, ft F" gives libFuzzer's final
# stat::number_of_executed_units and coverage (edges, features); `all` prints them again as a table at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scratch="$here/.build"
targets=(gguf safetensors safetensors-index npy wav flac image config tokenizer chat http constraint codecs)
summaries=()

build() {
  # The release configuration as Package.swift sets it, plus the sanitizers. lld: gold fails on these links.
  ${NICE:-} swift build -c release --package-path "$here" --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -g -Xswiftc -use-ld=lld \
    -Xcc -fsanitize=fuzzer-no-link,address,undefined -Xcc -fno-sanitize-recover=undefined >&2
  mkdir -p "$scratch/c"
  ${NICE:-} clang -g -O2 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I "$root/Sources/CPhiMedia/include" "$root/Sources/CPhiMedia/codecs.c" "$here/c/codecs_fuzz.c" \
    -ljpeg -lpng -o "$scratch/c/fuzz-codecs" >&2
}

binary() {
  if [ "$1" = codecs ]; then echo "$scratch/c/fuzz-codecs"; else echo "$scratch/release/fuzz-$1"; fi
}

run() {
  local target=$1 seconds=$2; shift 2
  local bin; bin=$(binary "$target")
  [ -x "$bin" ] || { echo "no binary for $target: run $0 --build" >&2; exit 2; }
  local seeds="$here/corpus/$target"
  [ "$target" = codecs ] && seeds="$here/corpus/image"
  local work="$root/.build/fuzz-corpus/$target" artifacts="$root/.build/fuzz-artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  local dirs=("$work" "$seeds")
  [ -d "$here/regressions/$target" ] && dirs+=("$here/regressions/$target")
  local mode=(-max_total_time="$seconds")
  [ "$seconds" = 0 ] && mode=(-runs=0)
  echo "== fuzz $target for ${seconds}s" >&2
  local log; log=$(mktemp)
  set +e
  ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}" \
    ${NICE:-} "$bin" "${mode[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=1048576 \
    -artifact_prefix="$artifacts" -print_final_stats=1 -detect_leaks=0 "$@" "${dirs[@]}" 2>&1 | tee "$log" >&2
  local status=${PIPESTATUS[0]}
  set -e
  # libFuzzer's closing numbers: executions (stat::number_of_executed_units), time, and the last cov:/ft: seen.
  local units secs cov ft
  units=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  secs=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  rm -f "$log"
  local line="$target: ${units:-?} executions in ${secs:-?} s, cov ${cov:-?}, ft ${ft:-?}$([ "$status" = 0 ] || echo " FAILED (exit $status)")"
  summaries+=("$line")
  echo "== summary $line" >&2
  return "$status"
}

NICE=""
[ "${FUZZ_NICE:-1}" != 0 ] && NICE="nice -n 15"
case "${1:-}" in
  --list) printf '%s\n' "${targets[@]}" ;;
  --build) build ;;
  all)
    seconds=${2:?seconds}; shift 2
    failed=0
    for t in "${targets[@]}"; do run "$t" "$seconds" "$@" || failed=1; done
    printf '== %s\n' "${summaries[@]}" >&2
    exit "$failed" ;;
  "" | -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' ;;
  *)
    target=$1 seconds=${2:?seconds}; shift 2
    [[ " ${targets[*]} " == *" $target "* ]] || { echo "unknown target $target (--list)" >&2; exit 2; }
    [ -x "$(binary "$target")" ] || build
    run "$target" "$seconds" "$@" ;;
esac
