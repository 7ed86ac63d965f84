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

// ---------------------------------------------------------------------------------------------------------------
// Memory read speed: the roofline that bounds generation (every weight byte is read once per token).

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static uint64_t read_avx512(const uint8_t *p, int64_t n) {
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    int64_t i = 0;
    for (; i + 256 <= n; i += 256) {
        a = _mm512_xor_si512(a, _mm512_loadu_si512((const void *)(p + i)));
        b = _mm512_xor_si512(b, _mm512_loadu_si512((const void *)(p + i + 64)));
        c = _mm512_xor_si512(c, _mm512_loadu_si512((const void *)(p + i + 128)));
        d = _mm512_xor_si512(d, _mm512_loadu_si512((const void *)(p + i + 192)));
    }
    a = _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d));
    uint64_t r = (uint64_t)_mm512_reduce_or_epi64(a);
    for (; i < n; i++) r ^= p[i];
    return r;
}
#endif

uint64_t phi_read_pass(const void *p, int64_t bytes) {
    const uint8_t *s = (const uint8_t *)p;
    if (bytes <= 0) return 0;
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) return read_avx512(s, bytes);
#endif
    uint64_t a = 0, b = 0, c = 0, d = 0;
    int64_t i = 0;
    for (; i + 32 <= bytes; i += 32) {
        uint64_t w[4];
        __builtin_memcpy(w, s + i, 32);
        a ^= w[0]; b ^= w[1]; c ^= w[2]; d ^= w[3];
    }
    uint64_t r = a ^ b ^ c ^ d;
    for (; i < bytes; i++) r ^= s[i];
    return r;
}
