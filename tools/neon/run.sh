#!/bin/sh
# Cross-compiles the dense and quantized kernels for aarch64 and checks every NEON path against its scalar
# _ref twin under qemu. Needs (Debian): qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross.
# Builds with aarch64-linux-gnu-gcc, and also with clang --target=aarch64-linux-gnu when clang is on PATH
# (the Swift toolchain's clang compiles these files in real builds). Each binary runs on qemu's `-cpu max`
# (has the ARMv8.2 dot product) with masks -1 (all paths: sdot), 16 (NEON without the dot product) and 0
# (scalar), and on `-cpu cortex-a57` (no dot product: the run-time detection must pick the widening path).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources/CPhiKernels"
out=${TMPDIR:-/tmp}/phikit-neon
mkdir -p "$out"
files="$src/cpu.c $src/gemm.c $src/gemm_bf16.c $src/attention.c $src/elementwise.c \
       $src/quant_ref.c $src/quant_repack.c $src/quant_traits.c $src/quant_dispatch.c \
       $src/gemm_neon.c $src/attention_neon.c $src/elementwise_neon.c $src/quant_neon.c $here/check.c"
flags="-O3 -ffp-contract=off -Wall -Wextra -Wno-unused-function -I$src/include"
sysroot=/usr/aarch64-linux-gnu

status=0
run() { # name, compiler command...
    name=$1; shift
    echo "== $name"
    # shellcheck disable=SC2086
    "$@" $flags $files -lm -o "$out/check-$name"
    echo "-- qemu -cpu max, masks -1 16 0"
    qemu-aarch64 -cpu max -L "$sysroot" "$out/check-$name" -1 16 0 || status=1
    echo "-- qemu -cpu cortex-a57, masks -1 0"
    qemu-aarch64 -cpu cortex-a57 -L "$sysroot" "$out/check-$name" -1 0 || status=1
}
run gcc aarch64-linux-gnu-gcc
if command -v clang >/dev/null 2>&1; then
    run clang clang --target=aarch64-linux-gnu -fuse-ld=lld
fi
[ $status -eq 0 ] && echo "NEON: all checks passed" || echo "NEON: FAILED"
exit $status
