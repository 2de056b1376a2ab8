/* codec/utf8.h — UTF-8 validation as MQTT requires it (spec 1.5.4):
 * well-formed per RFC 3629 (no overlong forms, no surrogates U+D800..U+DFFF,
 * nothing above U+10FFFF) and no U+0000.
 *
 * gn_utf8_check dispatches to the best kernel for this CPU (codec/simd.h);
 * the scalar kernel is the reference the others are tested against. */
#ifndef GN_CODEC_UTF8_H
#define GN_CODEC_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "codec/errors.h"

/* GN_OK, GN_ERR_UTF8_NUL (well-formed but contains U+0000) or
 * GN_ERR_UTF8_INVALID. When both apply, either may be returned. */
gn_err gn_utf8_check(const uint8_t *s, size_t len);

/* Kernels, callable directly by tests and benchmarks. The SIMD ones may be
 * called only when gn_simd_supported() says the CPU has them. */
gn_err gn_utf8_check_scalar(const uint8_t *s, size_t len);
gn_err gn_utf8_check_sse42(const uint8_t *s, size_t len);
gn_err gn_utf8_check_avx2(const uint8_t *s, size_t len);

#endif
