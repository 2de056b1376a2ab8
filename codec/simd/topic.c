/* codec/simd/topic.c — MQTT topic rules on top of the scan kernels: topic
 * name and filter validation, `$share/{name}/{filter}` parsing, and
 * splitting into levels with one XXH3 hash per level (codec/topic.h).
 *
 * The hot path is gn_topic_name_check on every PUBLISH: one kernel pass
 * counts '/', finds '+', '#', NUL and whether any byte is >= 0x80; only a
 * non-ASCII topic takes a second pass through the UTF-8 validator. Filters
 * (SUBSCRIBE, far rarer) walk their wildcards with a plain loop. */
#include <string.h>

#define XXH_INLINE_ALL /* the per-level hashes are short: inline, no call */
#include <xxhash.h>

#include "codec/simd/kernels.h"
#include "codec/topic.h"
#include "codec/utf8.h"

#define SHARE_PREFIX     "$share/"
#define SHARE_PREFIX_LEN 7u

/* UTF-8 part of both checks, reusing the scan: ASCII needs only the NUL
 * flag; anything else goes through the validator (which also finds NUL). */
static inline gn_err text_check(const uint8_t *s, size_t len, bool high, const gn_topic_scan *sc)
{
    if (high)
        return gn_utf8_check(s, len);
    return sc->has_nul ? GN_ERR_UTF8_NUL : GN_OK;
}

gn_err gn_topic_name_check(const uint8_t *s, size_t len)
{
    gn_topic_scan sc;

    if (len == 0)
        return GN_ERR_TOPIC_EMPTY;
    bool high = gn_topic_scan_active(s, len, &sc);
    gn_err e = text_check(s, len, high, &sc);
    if (e != GN_OK)
        return e;
    if (sc.has_plus || sc.has_hash)
        return GN_ERR_TOPIC_WILDCARD;
    if (sc.slashes >= GN_TOPIC_MAX_LEVELS)
        return GN_ERR_TOPIC_TOO_DEEP;
    return GN_OK;
}

/* '+' must be a whole level; '#' a whole level and the last one. */
static gn_err wildcards_check(const uint8_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = f[i];
        if (c != '+' && c != '#')
            continue;
        if (i > 0 && f[i - 1] != '/')
            return GN_ERR_FILTER_INVALID;
        if (c == '+' && i + 1 < n && f[i + 1] != '/')
            return GN_ERR_FILTER_INVALID;
        if (c == '#' && i + 1 != n)
            return GN_ERR_FILTER_INVALID;
    }
    return GN_OK;
}

gn_err gn_topic_filter_check(const uint8_t *s, size_t len)
{
    gn_topic_scan sc;
    bool shared;
    const uint8_t *name, *inner;
    size_t name_len, inner_len;

    if (len == 0)
        return GN_ERR_FILTER_EMPTY;
    bool high = gn_topic_scan_active(s, len, &sc);
    gn_err e = text_check(s, len, high, &sc);
    if (e != GN_OK)
        return e;
    e = gn_share_parse(s, len, &shared, &name, &name_len, &inner, &inner_len);
    if (e != GN_OK)
        return e;
    uint32_t slashes = sc.slashes;
    if (shared)
        slashes -= 2; /* the one after "$share" and the one after the name */
    else
        inner = s, inner_len = len;
    if (sc.has_plus || sc.has_hash) {
        e = wildcards_check(inner, inner_len);
        if (e != GN_OK)
            return e;
    }
    if (slashes >= GN_TOPIC_MAX_LEVELS)
        return GN_ERR_TOPIC_TOO_DEEP;
    return GN_OK;
}

gn_err gn_share_parse(const uint8_t *s, size_t len, bool *is_shared,
                      const uint8_t **name, size_t *name_len,
                      const uint8_t **inner, size_t *inner_len)
{
    *is_shared = false;
    *name = NULL;
    *name_len = 0;
    *inner = NULL;
    *inner_len = 0;
    if (len < SHARE_PREFIX_LEN || memcmp(s, SHARE_PREFIX, SHARE_PREFIX_LEN) != 0)
        return GN_OK;

    const uint8_t *n = s + SHARE_PREFIX_LEN;
    size_t rest = len - SHARE_PREFIX_LEN;
    const uint8_t *slash = memchr(n, '/', rest);
    if (slash == NULL || slash == n)
        return GN_ERR_SHARE_NAME_INVALID; /* no filter follows, or empty name */
    size_t nl = (size_t)(slash - n);
    if (memchr(n, '+', nl) != NULL || memchr(n, '#', nl) != NULL)
        return GN_ERR_SHARE_NAME_INVALID;
    size_t il = rest - nl - 1;
    if (il == 0)
        return GN_ERR_SHARE_NAME_INVALID; /* "$share/name/" with no filter */
    *is_shared = true;
    *name = n;
    *name_len = nl;
    *inner = slash + 1;
    *inner_len = il;
    return GN_OK;
}

uint64_t gn_level_hash(const uint8_t *s, size_t len)
{
    return XXH3_64bits(s, len);
}

static inline size_t slashes_active(const uint8_t *s, size_t len, uint16_t *pos, size_t cap)
{
    switch (gn_simd_current()) {
    case GN_SIMD_AVX2:  return gn_topic_slashes_avx2(s, len, pos, cap);
    case GN_SIMD_SSE42: return gn_topic_slashes_sse42(s, len, pos, cap);
    default:            return gn_topic_slashes_scalar(s, len, pos, cap);
    }
}

gn_err gn_topic_split(const uint8_t *s, size_t len, gn_levels *out)
{
    /* Offsets are 16-bit: no MQTT string is longer than 65535 bytes. */
    if (len > UINT16_MAX)
        return GN_ERR_TOPIC_TOO_DEEP;
    /* The kernel writes the '/' offsets into out->start; the loop below
     * turns them into level starts in place (slash i ends level i). */
    size_t n = slashes_active(s, len, out->start, GN_TOPIC_MAX_LEVELS - 1);
    if (n > GN_TOPIC_MAX_LEVELS - 1)
        return GN_ERR_TOPIC_TOO_DEEP;

    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        size_t end = out->start[i];
        out->start[i] = (uint16_t)start;
        out->len[i] = (uint16_t)(end - start);
        out->hash[i] = XXH3_64bits(s + start, end - start);
        start = end + 1;
    }
    out->start[n] = (uint16_t)start;
    out->len[n] = (uint16_t)(len - start);
    out->hash[n] = XXH3_64bits(s + start, len - start);
    out->count = (uint32_t)(n + 1);
    out->topic_hash = XXH3_64bits(s, len);
    return GN_OK;
}

bool gn_topic_matches(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen)
{
    /* MQTT 4.7.2: wildcards at the first level never match a '$' topic. */
    if (tlen && topic[0] == '$' && flen && (filter[0] == '+' || filter[0] == '#'))
        return false;
    size_t f = 0, t = 0;
    for (;;) {
        /* One filter level against one topic level. */
        size_t fe = f;
        while (fe < flen && filter[fe] != '/')
            fe++;
        if (fe - f == 1 && filter[f] == '#')
            return true;                /* the rest, this level's parent included */
        size_t te = t;
        while (te < tlen && topic[te] != '/')
            te++;
        if (!(fe - f == 1 && filter[f] == '+') &&
            (fe - f != te - t || memcmp(filter + f, topic + t, fe - f) != 0))
            return false;
        bool fend = fe >= flen, tend = te >= tlen;
        if (fend || tend) {
            if (fend && tend)
                return true;
            /* "a/#" matches "a": the filter's next level is a lone '#'. */
            return tend && flen - fe == 2 && filter[fe + 1] == '#';
        }
        f = fe + 1;
        t = te + 1;
    }
}
