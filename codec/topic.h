/* codec/topic.h — topic names and filters: validation, `$share` parsing, and
 * splitting into levels with one XXH3 hash per level for the router.
 *
 * The scans are vectorised (SSE4.2 / AVX2, chosen once at start-up, see
 * codec/simd.h) with the scalar version as the reference. Pure functions,
 * thread-safe, no allocation. */
#ifndef GN_CODEC_TOPIC_H
#define GN_CODEC_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/errors.h"

/* Deepest topic or filter accepted (levels = number of '/' + 1).
 * Mosquitto's own limit is 200; the platform's engine used 32 (S-093). */
#define GN_TOPIC_MAX_LEVELS 128

/* A topic or filter split into levels. Level i is
 * topic[start[i] .. start[i] + len[i]) and hash[i] = XXH3_64bits of it.
 * Empty levels ("a//b", leading or trailing '/') are real levels of length 0. */
typedef struct gn_levels {
    uint32_t count;
    uint64_t topic_hash;                 /* XXH3_64bits of the whole string */
    uint16_t start[GN_TOPIC_MAX_LEVELS];
    uint16_t len[GN_TOPIC_MAX_LEVELS];
    uint64_t hash[GN_TOPIC_MAX_LEVELS];
} gn_levels;

/* What one pass over a topic string found. */
typedef struct gn_topic_scan {
    uint32_t slashes;       /* number of '/' */
    bool     has_plus;
    bool     has_hash;
    bool     has_nul;
} gn_topic_scan;

/* One pass: count '/', look for '+', '#', NUL. Any length up to 65535. */
void gn_topic_scan_bytes(const uint8_t *s, size_t len, gn_topic_scan *out);

/* Validate a PUBLISH topic name: non-empty, well-formed UTF-8 without U+0000,
 * no wildcard, at most GN_TOPIC_MAX_LEVELS levels. */
gn_err gn_topic_name_check(const uint8_t *s, size_t len);

/* Validate a topic filter: non-empty, UTF-8, '+' alone in its level, '#'
 * alone and last, at most GN_TOPIC_MAX_LEVELS levels. `$share/...` filters are
 * validated as shared subscriptions (see gn_share_parse). */
gn_err gn_topic_filter_check(const uint8_t *s, size_t len);

/* Split a topic name or filter (already validated) into levels with hashes.
 * GN_ERR_TOPIC_TOO_DEEP past GN_TOPIC_MAX_LEVELS. */
gn_err gn_topic_split(const uint8_t *s, size_t len, gn_levels *out);

/* If filter starts with "$share/", parse "$share/{name}/{filter}".
 * Returns GN_OK and sets *is_shared=true with name and inner filter views,
 * GN_OK with *is_shared=false for an ordinary filter, or
 * GN_ERR_SHARE_NAME_INVALID (empty name, '+' '#' in the name, no inner filter).
 * The inner filter is not validated here. */
gn_err gn_share_parse(const uint8_t *s, size_t len, bool *is_shared,
                      const uint8_t **name, size_t *name_len,
                      const uint8_t **inner, size_t *inner_len);

/* Whether topic name `topic` matches filter `filter` (both validated, the
 * filter without a $share/{name}/ prefix): '+' one whole level, '#' the
 * rest including the parent level, and no wildcard at the first level
 * matching a topic that starts with '$' (MQTT 4.7). */
bool gn_topic_matches(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen);

/* XXH3_64bits of one level (the hash gn_topic_split stores); for callers that
 * build levels by hand (the router's reference matcher, tests). */
uint64_t gn_level_hash(const uint8_t *s, size_t len);

#endif
