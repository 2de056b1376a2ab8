/* codec/simd/dispatch.c — the one dispatch point for the codec's vector
 * kernels: CPU detection (once), the GANNET_SIMD override, gn_simd_force,
 * and gn_utf8_check / gn_topic_scan_bytes, which switch on the level.
 *
 * Why a switch on an int rather than function pointers: both cost about the
 * same per call once predicted (docs/PERFORMANCE.md, "dispatch"), but the
 * switch calls the kernels directly, so the compiler sees every target and
 * the level is one relaxed load with nothing else published through it. */
#include <stdlib.h>
#include <string.h>

#include "codec/simd.h"
#include "codec/simd/kernels.h"
#include "codec/topic.h"
#include "codec/utf8.h"

/* Level in use; -1 until initialised. Relaxed everywhere: it only selects
 * which kernel runs, and every kernel is correct on this CPU at any level
 * not above g_max, which is set before it. */
_Atomic int gn_simd_level_now = -1;

/* Highest level this CPU supports; -1 until detected. Stored (relaxed)
 * before gn_simd_level_now is first set; racing initialisers compute and
 * store the same value, so no ordering beyond that is needed. */
static _Atomic int g_max = -1;

static int detect_max(void)
{
    __builtin_cpu_init();
    /* The kernels count with POPCNT; every CPU with SSE4.2 has it, but
     * check anyway. __builtin_cpu_supports("avx2") also checks that the OS
     * saves the YMM registers (XCR0). */
    if (!__builtin_cpu_supports("popcnt") || !__builtin_cpu_supports("sse4.2"))
        return GN_SIMD_SCALAR;
    if (!__builtin_cpu_supports("avx2"))
        return GN_SIMD_SSE42;
    return GN_SIMD_AVX2;
}

static int max_level(void)
{
    int m = atomic_load_explicit(&g_max, memory_order_relaxed); /* see g_max */
    if (m < 0) {
        m = detect_max();
        atomic_store_explicit(&g_max, m, memory_order_relaxed); /* see g_max */
    }
    return m;
}

/* GANNET_SIMD=scalar|sse42|sse4.2|avx2 caps the level; anything else
 * (or unset) leaves the detected one. */
static int env_level(int max)
{
    const char *e = getenv("GANNET_SIMD");
    int want = max;
    if (e != NULL) {
        if (strcmp(e, "scalar") == 0)
            want = GN_SIMD_SCALAR;
        else if (strcmp(e, "sse42") == 0 || strcmp(e, "sse4.2") == 0)
            want = GN_SIMD_SSE42;
        else if (strcmp(e, "avx2") == 0)
            want = GN_SIMD_AVX2;
    }
    return want < max ? want : max;
}

int gn_simd_init_level(void)
{
    int max = max_level();
    int expect = -1;
    int want = env_level(max);
    /* relaxed CAS: only the first initialiser sets the level, so a
     * gn_simd_force that ran in between is not undone; see gn_simd_level_now. */
    if (atomic_compare_exchange_strong_explicit(&gn_simd_level_now, &expect, want,
                                                memory_order_relaxed, memory_order_relaxed))
        return want;
    return expect;
}

void gn_simd_reset_for_tests(void)
{
    atomic_store_explicit(&gn_simd_level_now, -1, memory_order_relaxed); /* see gn_simd_level_now */
}

void gn_simd_init(void)
{
    (void)gn_simd_current();
}

gn_simd_level gn_simd_active(void)
{
    return (gn_simd_level)gn_simd_current();
}

bool gn_simd_supported(gn_simd_level level)
{
    return (int)level >= GN_SIMD_SCALAR && (int)level <= max_level();
}

gn_simd_level gn_simd_force(gn_simd_level level)
{
    int max = max_level();
    int l = (int)level;
    if (l < GN_SIMD_SCALAR)
        l = GN_SIMD_SCALAR;
    if (l > max)
        l = max;
    atomic_store_explicit(&gn_simd_level_now, l, memory_order_relaxed); /* see gn_simd_level_now */
    return (gn_simd_level)l;
}

const char *gn_simd_name(gn_simd_level level)
{
    switch (level) {
    case GN_SIMD_SCALAR: return "scalar";
    case GN_SIMD_SSE42:  return "sse4.2";
    case GN_SIMD_AVX2:   return "avx2";
    }
    return "unknown";
}

gn_err gn_utf8_check(const uint8_t *s, size_t len)
{
    switch (gn_simd_current()) {
    case GN_SIMD_AVX2:  return gn_utf8_check_avx2(s, len);
    case GN_SIMD_SSE42: return gn_utf8_check_sse42(s, len);
    default:            return gn_utf8_check_scalar(s, len);
    }
}

void gn_topic_scan_bytes(const uint8_t *s, size_t len, gn_topic_scan *out)
{
    (void)gn_topic_scan_active(s, len, out);
}
