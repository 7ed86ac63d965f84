// A small persistent worker pool for the model's parallel regions. Decode runs a few hundred short regions per
// token (one per matmul, attention, ...); waking a sleeping GCD worker costs 40-60 us per region on the Linux VM
// this was measured on, about a tenth of a 2-thread token. These workers spin for a while after each job (as
// llama.cpp's OpenMP threads do) and only then sleep, so back-to-back regions start within a microsecond.
//
// One job at a time: a second caller (another conversation, or a region started from inside a job) gets -1 and
// uses its own fallback. Iterations are claimed through one atomic ticket
// (job generation << 32 | iterations left), so a worker still finishing an old job can never claim an iteration of
// the next one.
#include "CPhiKernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>

#define SPIN_ROUNDS 40000 // ~1 ms of polling before a worker sleeps

static pthread_mutex_t g_run = PTHREAD_MUTEX_INITIALIZER;   // held by the caller of the running job
static pthread_mutex_t g_sleep = PTHREAD_MUTEX_INITIALIZER; // guards sleeping
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
static int g_workers = 0;                                   // started so far (under g_run)

static uint64_t g_ticket = 0;  // generation << 32 | iterations not yet claimed
static uint64_t g_gen = 0;     // generation of the newest job (workers wait for it to change)
static int64_t g_done = 0;     // iterations finished
static phi_pool_fn g_fn = 0;
static void *g_ctx = 0;

static int g_oversubscribed = 0; // more threads than CPUs: spinning would take the CPU from the working threads

static inline void relax(void) {
    if (__atomic_load_n(&g_oversubscribed, __ATOMIC_RELAXED)) { sched_yield(); return; }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// Claims and runs iterations of generation `gen` until none are left. The ticket's low half counts the iterations
// not yet claimed; a claim takes iteration remaining-1. Nothing else is read before a claim succeeds, and a job's
// fn and ctx stay in place until all its claimed iterations are done, so a stale worker cannot mix two jobs.
static void drain(uint64_t gen) {
    for (;;) {
        uint64_t t = __atomic_load_n(&g_ticket, __ATOMIC_ACQUIRE);
        for (;;) {
            if ((t >> 32) != (gen & 0xFFFFFFFFu) || (t & 0xFFFFFFFFu) == 0) return;
            if (__atomic_compare_exchange_n(&g_ticket, &t, t - 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) break;
        }
        g_fn(g_ctx, (int64_t)(t & 0xFFFFFFFFu) - 1);
        __atomic_fetch_add(&g_done, 1, __ATOMIC_RELEASE);
    }
}

static void *worker(void *arg) {
    (void)arg;
    uint64_t seen = __atomic_load_n(&g_gen, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t gen;
        int spins = 0;
        while ((gen = __atomic_load_n(&g_gen, __ATOMIC_ACQUIRE)) == seen) {
            if (++spins < SPIN_ROUNDS) { relax(); continue; }
            pthread_mutex_lock(&g_sleep);
            while ((gen = __atomic_load_n(&g_gen, __ATOMIC_ACQUIRE)) == seen) pthread_cond_wait(&g_wake, &g_sleep);
            pthread_mutex_unlock(&g_sleep);
            break;
        }
        seen = gen;
        drain(gen);
    }
    return 0;
}

int phi_pool_run(int64_t n, phi_pool_fn fn, void *ctx, int threads) {
    if (n <= 0) return 0;
    if (n > 0x7FFFFFFF || threads < 1 || pthread_mutex_trylock(&g_run) != 0) return -1;
    while (g_workers < threads - 1 && g_workers < 63) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int ok = pthread_create(&th, &attr, worker, 0) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        g_workers++;
    }
    if (g_workers == 0) { pthread_mutex_unlock(&g_run); return -1; }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    __atomic_store_n(&g_oversubscribed, cpus > 0 && g_workers + 1 > cpus, __ATOMIC_RELAXED);
    const uint64_t gen = g_gen + 1;
    g_fn = fn;
    g_ctx = ctx;
    __atomic_store_n(&g_done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_ticket, (gen & 0xFFFFFFFFu) << 32 | (uint64_t)n, __ATOMIC_RELEASE);
    pthread_mutex_lock(&g_sleep);
    __atomic_store_n(&g_gen, gen, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_sleep);
    drain(gen);
    int spins = 0;
    while (__atomic_load_n(&g_done, __ATOMIC_ACQUIRE) < n) {
        if (++spins < SPIN_ROUNDS) relax();
        else sched_yield();
    }
    pthread_mutex_unlock(&g_run);
    return 0;
}
