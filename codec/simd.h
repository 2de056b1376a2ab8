/* codec/simd.h — the one dispatch point for the codec's vector kernels.
 *
 * The level is chosen once (first call, or gn_simd_init) from CPUID and can
 * be forced lower for tests and benchmarks. Kernels for each instruction set
 * live in their own files (utf8_sse42.c, utf8_avx2.c, topic_avx2.c, ...);
 * the scalar versions are the reference. */
#ifndef GN_CODEC_SIMD_H
#define GN_CODEC_SIMD_H

#include <stdbool.h>

typedef enum gn_simd_level {
    GN_SIMD_SCALAR = 0,
    GN_SIMD_SSE42  = 1,
    GN_SIMD_AVX2   = 2,
} gn_simd_level;

/* Detect the CPU and pick kernels. Idempotent and thread-safe; called
 * implicitly by the first codec function that needs it. */
void gn_simd_init(void);
/* The level in use. */
gn_simd_level gn_simd_active(void);
/* Whether this CPU can run kernels of the given level. */
bool gn_simd_supported(gn_simd_level level);
/* Use at most `level` from now on (clamped to what the CPU supports).
 * Not for use while other threads are decoding: tests and benchmarks only.
 * Returns the level now active. The environment variable GANNET_SIMD
 * (scalar | sse42 | avx2) has the same effect at start-up. */
gn_simd_level gn_simd_force(gn_simd_level level);
/* "scalar", "sse4.2", "avx2". */
const char *gn_simd_name(gn_simd_level level);

#endif
