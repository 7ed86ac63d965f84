#include "CPhiKernels.h"

static int g_features = -1;
static int g_mask = -1;

static int detect(void) {
    int f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= PHI_CPU_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) f |= PHI_CPU_AVX512;
    if ((f & PHI_CPU_AVX512) && __builtin_cpu_supports("avx512bf16")) f |= PHI_CPU_AVX512_BF16;
    if ((f & PHI_CPU_AVX512) && __builtin_cpu_supports("avx512vnni")) f |= PHI_CPU_AVX512_VNNI;
#elif defined(__aarch64__)
    f |= PHI_CPU_NEON;
#endif
    return f;
}

int phi_cpu_features(void) {
    if (g_features < 0) g_features = detect();
    return g_mask < 0 ? g_features : (g_features & g_mask);
}

void phi_set_cpu_mask(int mask) { g_mask = mask; }
