/* tests/fuzz/fuzz_utf8.c — libFuzzer target for UTF-8 validation: every
 * kernel this CPU can run must return exactly what the scalar reference
 * returns (on the whole input and on each of its first suffixes, so that
 * the same bytes meet different vector alignments), and the dispatched
 * gn_utf8_check must agree at every forced level. Crash freedom and no read
 * past the input are checked by ASan (libFuzzer hands over an exact-size
 * heap copy). */
#include <stdio.h>
#include <stdlib.h>

#include "codec/simd.h"
#include "codec/simd/kernels.h"
#include "codec/utf8.h"

#include "tests/fuzz/fuzz_check.h"

static void differential(const uint8_t *s, size_t len)
{
    gn_err ref = gn_utf8_check_scalar(s, len);
    FUZZ_CHECK(ref == GN_OK || ref == GN_ERR_UTF8_NUL || ref == GN_ERR_UTF8_INVALID);
    if (gn_simd_supported(GN_SIMD_SSE42))
        FUZZ_CHECK(gn_utf8_check_sse42(s, len) == ref);
    if (gn_simd_supported(GN_SIMD_AVX2))
        FUZZ_CHECK(gn_utf8_check_avx2(s, len) == ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t skip = 0; skip < 4 && skip <= size; skip++)
        differential(data + skip, size - skip);

    gn_err ref = gn_utf8_check_scalar(data, size);
    for (int l = GN_SIMD_SCALAR; l <= GN_SIMD_AVX2; l++) {
        if ((int)gn_simd_force((gn_simd_level)l) == l)
            FUZZ_CHECK(gn_utf8_check(data, size) == ref);
    }
    return 0;
}
