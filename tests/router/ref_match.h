/* tests/router/ref_match.h — the naive reference matcher the router is
 * checked against: plain string matching of one topic name against one
 * filter, written from the MQTT rules with no shared code with router/. */
#ifndef GN_TESTS_REF_MATCH_H
#define GN_TESTS_REF_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Does `topic` (a valid topic name) match `filter` (a valid, non-shared
 * filter)? '+' = one level, '#' = this level and all below (also the parent:
 * "a/#" matches "a"), empty levels are levels, a topic starting with '$' is
 * not matched by a filter starting with '+' or '#'. */
bool ref_match(const char *topic, size_t tlen, const char *filter, size_t flen);

#endif
