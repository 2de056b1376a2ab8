/* codec/simd/utf8_sse42.c — UTF-8 validation with SSE4.2 (compiled with
 * -msse4.2; call only when gn_simd_supported(GN_SIMD_SSE42)).
 *
 * The "lookup" algorithm of Keiser and Lemire ("Validating UTF-8 in less
 * than one instruction per byte", SPE 2021; as in simdjson / simdutf): for
 * each byte and the one before it, three 16-entry nibble tables give a bit
 * set of the error classes the pair could belong to; their AND is non-zero
 * exactly for an invalid pair, except that the 3rd/4th bytes of long
 * sequences (two continuations in a row) are checked against the lead two
 * and three bytes back. A 64-byte block (four vectors) that is all ASCII
 * only has to check that the previous block did not end inside a sequence. NUL bytes are
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
    _mm_setr_epi8((char)(a0), (char)(a1), (char)(a2), (char)(a3), (char)(a4), (char)(a5), (char)(a6), \
                  (char)(a7), (char)(a8), (char)(a9), (char)(a10), (char)(a11), (char)(a12), (char)(a13), \
                  (char)(a14), (char)(a15))

typedef struct utf8_state {
    __m128i error;           /* any bit set: ill-formed */
    __m128i prev_input;      /* last non-ASCII vector checked */
    __m128i prev_incomplete; /* non-zero: prev_input ended inside a sequence */
    __m128i min;             /* running unsigned minimum: a 0 lane means NUL seen */
} utf8_state;

/* input shifted right by n bytes, the gap filled with the end of prev. */
#define PREV(input, prev, n) _mm_alignr_epi8((input), (prev), 16 - (n))

static inline __m128i special_cases(__m128i input, __m128i prev1)
{
    const __m128i byte_1_high_tbl = TABLE16(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
        TOO_SHORT | OVERLONG_2,
        TOO_SHORT,
        TOO_SHORT | OVERLONG_3 | SURROGATE,
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    const __m128i byte_1_low_tbl = TABLE16(
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
    const __m128i byte_2_high_tbl = TABLE16(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
    const __m128i nib = _mm_set1_epi8(0x0F);

    __m128i b1h = _mm_shuffle_epi8(byte_1_high_tbl, _mm_and_si128(_mm_srli_epi16(prev1, 4), nib));
    __m128i b1l = _mm_shuffle_epi8(byte_1_low_tbl, _mm_and_si128(prev1, nib));
    __m128i b2h = _mm_shuffle_epi8(byte_2_high_tbl, _mm_and_si128(_mm_srli_epi16(input, 4), nib));
    return _mm_and_si128(_mm_and_si128(b1h, b1l), b2h);
}

/* Check one vector that is not all ASCII, given the vector before it. */
static inline void check_vector(utf8_state *st, __m128i input, __m128i prev_input)
{
    __m128i prev1 = PREV(input, prev_input, 1);
    __m128i sc = special_cases(input, prev1);
    __m128i prev2 = PREV(input, prev_input, 2);
    __m128i prev3 = PREV(input, prev_input, 3);
    /* Bit 7 set where the byte must be the 3rd or 4th of a sequence:
     * two back is 111_____ or three back is 1111____. */
    __m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8((char)(0xE0 - 0x80)));
    __m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8((char)(0xF0 - 0x80)));
    __m128i must23_80 = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8((char)0x80));
    st->error = _mm_or_si128(st->error, _mm_xor_si128(must23_80, sc));
}

/* Non-zero where the vector ends inside a sequence (a lead byte in the
 * last 1, 2 or 3 positions that needs more bytes than are left). */
static inline __m128i incomplete(__m128i input)
{
    const __m128i max = _mm_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
    return _mm_subs_epu8(input, max);
}

static inline void step16(utf8_state *st, __m128i in)
{
    st->min = _mm_min_epu8(st->min, in);
    if (_mm_movemask_epi8(in) == 0) {
        st->error = _mm_or_si128(st->error, st->prev_incomplete);
        return;
    }
    check_vector(st, in, st->prev_input);
    st->prev_incomplete = incomplete(in);
    st->prev_input = in;
}

gn_err gn_utf8_check_sse42(const uint8_t *s, size_t len)
{
    utf8_state st = {
        .error = _mm_setzero_si128(),
        .prev_input = _mm_setzero_si128(),
        .prev_incomplete = _mm_setzero_si128(),
        .min = _mm_set1_epi8(-1),
    };
    size_t i = 0;

    for (; i + 64 <= len; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 48));
        st.min = _mm_min_epu8(st.min, _mm_min_epu8(_mm_min_epu8(a, b), _mm_min_epu8(c, d)));
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) == 0) {
            st.error = _mm_or_si128(st.error, st.prev_incomplete);
            continue;
        }
        check_vector(&st, a, st.prev_input);
        check_vector(&st, b, a);
        check_vector(&st, c, b);
        check_vector(&st, d, c);
        st.prev_incomplete = incomplete(d);
        st.prev_input = d;
    }
    for (; i + 16 <= len; i += 16)
        step16(&st, _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
    if (i < len)
        step16(&st, gn_load_tail16(s + i, len - i));
    st.error = _mm_or_si128(st.error, st.prev_incomplete);
    if (!_mm_testz_si128(st.error, st.error))
        return GN_ERR_UTF8_INVALID;
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(st.min, _mm_setzero_si128())) != 0)
        return GN_ERR_UTF8_NUL;
    return GN_OK;
}
