#include "CPhiKernels.h"

#if defined(__aarch64__) && !defined(__ARM_FEATURE_DOTPROD)
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

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
#if defined(__ARM_FEATURE_DOTPROD) // the compile target has it (arm64 macOS: apple-m1)
    f |= PHI_CPU_NEON_DOTPROD;
#elif defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) f |= PHI_CPU_NEON_DOTPROD;
#elif defined(__APPLE__)
    int dp = 0;
    size_t len = sizeof dp;
    if (sysctlbyname("hw.optional.arm.FEAT_DotProd", &dp, &len, NULL, 0) == 0 && dp) f |= PHI_CPU_NEON_DOTPROD;
#endif
#endif
    return f;
}

int phi_cpu_features(void) {
    if (g_features < 0) g_features = detect();
    return g_mask < 0 ? g_features : (g_features & g_mask);
}

void phi_set_cpu_mask(int mask) { g_mask = mask; }
