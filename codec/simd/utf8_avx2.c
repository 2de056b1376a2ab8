/* codec/simd/utf8_avx2.c — UTF-8 validation with AVX2 (compiled with
 * -mavx2; call only when gn_simd_supported(GN_SIMD_AVX2)).
 *
 * The "lookup" algorithm of Keiser and Lemire ("Validating UTF-8 in less
 * than one instruction per byte", SPE 2021; as in simdjson / simdutf): for
 * each byte and the one before it, three 16-entry nibble tables give a bit
 * set of the error classes the pair could belong to; their AND is non-zero
 * exactly for an invalid pair, except that the 3rd/4th bytes of long
 * sequences (two continuations in a row) are checked against the lead two
 * and three bytes back. A 64-byte block that is all ASCII only has to check
 * that the previous block did not end inside a sequence. NUL bytes are
 * tracked with a running unsigned minimum. The last partial vector is loaded
 * padded (codec/simd/block.h), so nothing past len is read. */
#include <immintrin.h>

#include "codec/simd/block.h"
#include "codec/utf8.h"

/* Error classes (one bit each; TOO_LARGE_1000 and OVERLONG_4 share a bit:
 * both are "F_ lead followed by 1000____", told apart by the low nibble). */
#define TOO_SHORT      (1 << 0) /* 11______ 0_______ or 11______ 11______ */
#define TOO_LONG       (1 << 1) /* 0_______ 10______ */
#define OVERLONG_3     (1 << 2) /* 11100000 100_____ */
#define TOO_LARGE      (1 << 3) /* 11110100 1001____ .. 11111111 */
#define SURROGATE      (1 << 4) /* 11101101 101_____ */
#define OVERLONG_2     (1 << 5) /* 1100000_ 10______ */
#define TOO_LARGE_1000 (1 << 6) /* 11110101..11111111 1000____ */
#define OVERLONG_4     (1 << 6) /* 11110000 1000____ */
#define TWO_CONTS      (1 << 7) /* 10______ 10______ */
#define CARRY          (TOO_SHORT | TOO_LONG | TWO_CONTS)

#define TABLE16(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15) \
    _mm256_setr_epi8( \
        (char)(a0), (char)(a1), (char)(a2), (char)(a3), (char)(a4), (char)(a5), (char)(a6), (char)(a7), \
        (char)(a8), (char)(a9), (char)(a10), (char)(a11), (char)(a12), (char)(a13), (char)(a14), (char)(a15), \
        (char)(a0), (char)(a1), (char)(a2), (char)(a3), (char)(a4), (char)(a5), (char)(a6), (char)(a7), \
        (char)(a8), (char)(a9), (char)(a10), (char)(a11), (char)(a12), (char)(a13), (char)(a14), (char)(a15))

typedef struct utf8_state {
    __m256i error;           /* any bit set: ill-formed */
    __m256i prev_input;      /* last non-ASCII vector checked */
    __m256i prev_incomplete; /* non-zero: prev_input ended inside a sequence */
    __m256i min;             /* running unsigned minimum: a 0 lane means NUL seen */
} utf8_state;

/* input shifted right by n bytes, the gap filled with the end of prev. */
#define PREV(input, prev, n) \
    _mm256_alignr_epi8((input), _mm256_permute2x128_si256((prev), (input), 0x21), 16 - (n))

static inline __m256i special_cases(__m256i input, __m256i prev1)
{
    const __m256i byte_1_high_tbl = TABLE16(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
        TOO_SHORT | OVERLONG_2,
        TOO_SHORT,
        TOO_SHORT | OVERLONG_3 | SURROGATE,
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    const __m256i byte_1_low_tbl = TABLE16(
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
        CARRY | OVERLONG_2,
        CARRY,
        CARRY,
        CARRY | TOO_LARGE,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000);
    const __m256i byte_2_high_tbl = TABLE16(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
    const __m256i nib = _mm256_set1_epi8(0x0F);

    __m256i b1h = _mm256_shuffle_epi8(byte_1_high_tbl, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nib));
    __m256i b1l = _mm256_shuffle_epi8(byte_1_low_tbl, _mm256_and_si256(prev1, nib));
    __m256i b2h = _mm256_shuffle_epi8(byte_2_high_tbl, _mm256_and_si256(_mm256_srli_epi16(input, 4), nib));
    return _mm256_and_si256(_mm256_and_si256(b1h, b1l), b2h);
}

/* Check one vector that is not all ASCII, given the vector before it. */
static inline void check_vector(utf8_state *st, __m256i input, __m256i prev_input)
{
    __m256i prev1 = PREV(input, prev_input, 1);
    __m256i sc = special_cases(input, prev1);
    __m256i prev2 = PREV(input, prev_input, 2);
    __m256i prev3 = PREV(input, prev_input, 3);
    /* Bit 7 set where the byte must be the 3rd or 4th of a sequence:
     * two back is 111_____ or three back is 1111____. */
    __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xE0 - 0x80)));
    __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xF0 - 0x80)));
    __m256i must23_80 = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    st->error = _mm256_or_si256(st->error, _mm256_xor_si256(must23_80, sc));
}

/* Non-zero where the vector ends inside a sequence (a lead byte in the
 * last 1, 2 or 3 positions that needs more bytes than are left). */
static inline __m256i incomplete(__m256i input)
{
    const __m256i max = _mm256_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
    return _mm256_subs_epu8(input, max);
}

static inline void step32(utf8_state *st, __m256i in)
{
    st->min = _mm256_min_epu8(st->min, in);
    if (_mm256_movemask_epi8(in) == 0) {
        st->error = _mm256_or_si256(st->error, st->prev_incomplete);
        return;
    }
    check_vector(st, in, st->prev_input);
    st->prev_incomplete = incomplete(in);
    st->prev_input = in;
}

gn_err gn_utf8_check_avx2(const uint8_t *s, size_t len)
{
    utf8_state st = {
        .error = _mm256_setzero_si256(),
        .prev_input = _mm256_setzero_si256(),
        .prev_incomplete = _mm256_setzero_si256(),
        .min = _mm256_set1_epi8(-1),
    };
    size_t i = 0;

    for (; i + 64 <= len; i += 64) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(s + i + 32));
        st.min = _mm256_min_epu8(st.min, _mm256_min_epu8(a, b));
        if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
            st.error = _mm256_or_si256(st.error, st.prev_incomplete);
            continue;
        }
        check_vector(&st, a, st.prev_input);
        check_vector(&st, b, a);
        st.prev_incomplete = incomplete(b);
        st.prev_input = b;
    }
    if (i + 32 <= len) {
        step32(&st, _mm256_loadu_si256((const __m256i *)(const void *)(s + i)));
        i += 32;
    }
    if (i < len)
        step32(&st, gn_load_tail32(s + i, len - i));
    st.error = _mm256_or_si256(st.error, st.prev_incomplete);
    if (!_mm256_testz_si256(st.error, st.error))
        return GN_ERR_UTF8_INVALID;
    if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(st.min, _mm256_setzero_si256())) != 0)
        return GN_ERR_UTF8_NUL;
    return GN_OK;
}
