/* codec/simd/utf8_scalar.c — the reference UTF-8 validator (RFC 3629 table
 * 3-7 of Unicode 15, plus MQTT's ban on U+0000). The SIMD kernels are tested
 * against this one; keep it plain.
 *
 * Well-formed sequences (Unicode table 3-7):
 *   00..7F
 *   C2..DF 80..BF
 *   E0     A0..BF 80..BF
 *   E1..EC 80..BF 80..BF
 *   ED     80..9F 80..BF          (no surrogates D800..DFFF)
 *   EE..EF 80..BF 80..BF
 *   F0     90..BF 80..BF 80..BF
 *   F1..F3 80..BF 80..BF 80..BF
 *   F4     80..8F 80..BF 80..BF   (nothing above U+10FFFF)
 * Result: GN_ERR_UTF8_INVALID if ill-formed anywhere, else GN_ERR_UTF8_NUL
 * if a 00 byte occurs, else GN_OK (every kernel returns exactly this). */
#include <string.h>

#include "codec/utf8.h"

#define ONES8 0x0101010101010101ull
#define HIGH8 0x8080808080808080ull

static inline int is_cont(uint8_t c)
{
    return (c & 0xC0) == 0x80;
}

gn_err gn_utf8_check_scalar(const uint8_t *s, size_t len)
{
    size_t i = 0;
    int nul = 0;

    while (i < len) {
        /* ASCII fast path, eight bytes at a time. */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & HIGH8) == 0) {
                nul |= ((w - ONES8) & ~w & HIGH8) != 0;
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            nul |= c == 0;
            i += 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (len - i < 2 || !is_cont(s[i + 1]))
                return GN_ERR_UTF8_INVALID;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (len - i < 3)
                return GN_ERR_UTF8_INVALID;
            uint8_t lo = c == 0xE0 ? 0xA0 : 0x80;
            uint8_t hi = c == 0xED ? 0x9F : 0xBF;
            if (s[i + 1] < lo || s[i + 1] > hi || !is_cont(s[i + 2]))
                return GN_ERR_UTF8_INVALID;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (len - i < 4)
                return GN_ERR_UTF8_INVALID;
            uint8_t lo = c == 0xF0 ? 0x90 : 0x80;
            uint8_t hi = c == 0xF4 ? 0x8F : 0xBF;
            if (s[i + 1] < lo || s[i + 1] > hi || !is_cont(s[i + 2]) || !is_cont(s[i + 3]))
                return GN_ERR_UTF8_INVALID;
            i += 4;
        } else {
            /* 80..BF stray continuation, C0/C1 overlong lead, F5..FF. */
            return GN_ERR_UTF8_INVALID;
        }
    }
    return nul ? GN_ERR_UTF8_NUL : GN_OK;
}
