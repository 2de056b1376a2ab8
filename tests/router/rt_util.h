/* tests/router/rt_util.h — small helpers shared by the router tests:
 * string-based subscribe/unsubscribe/match wrappers around router/router.h. */
#ifndef GN_TESTS_RT_UTIL_H
#define GN_TESTS_RT_UTIL_H

#include <check.h>
#include <string.h>

#include "router/router.h"

#define RT_MAXD 4096

/* ck_assert records its location through a pipe write on every call (even
 * passing); hot loops use this instead, which costs nothing unless it fails. */
#define RT_CHECK(cond, ...)                \
    do {                                   \
        if (!(cond))                       \
            ck_abort_msg(__VA_ARGS__);     \
    } while (0)

static inline gn_sub_opts rt_opts(uint8_t qos, uint32_t sub_id)
{
    gn_sub_opts o = {.qos = qos, .sub_id = sub_id};
    return o;
}

static inline gn_rerr rt_sub_o(gn_router *r, const char *f, uint64_t session, uint16_t shard,
                               gn_sub_opts o)
{
    gn_subscriber who = {.session = session, .shard = shard};
    return gn_router_subscribe(r, (const uint8_t *)f, strlen(f), &who, &o, NULL);
}

static inline gn_rerr rt_sub(gn_router *r, const char *f, uint64_t session, uint8_t qos)
{
    return rt_sub_o(r, f, session, 0, rt_opts(qos, 0));
}

static inline gn_rerr rt_unsub(gn_router *r, const char *f, uint64_t session)
{
    return gn_router_unsubscribe(r, (const uint8_t *)f, strlen(f), session);
}

/* Match a topic; returns the count (asserting success). */
static inline uint32_t rt_match_p(gn_router_reader *rd, const char *t, uint64_t publisher,
                                  gn_delivery *out)
{
    uint32_t n = 0;
    gn_rerr e = gn_router_match(rd, (const uint8_t *)t, strlen(t), NULL, publisher, out, RT_MAXD, &n);
    RT_CHECK(e == GN_ROUTER_OK, "match %s: %s", t, gn_rerr_name(e));
    return n;
}

static inline uint32_t rt_match(gn_router_reader *rd, const char *t, gn_delivery *out)
{
    return rt_match_p(rd, t, GN_ROUTER_NO_PUBLISHER, out);
}

/* The delivery for a session in out[0..n), or NULL. */
static inline const gn_delivery *rt_find(const gn_delivery *out, uint32_t n, uint64_t session)
{
    for (uint32_t i = 0; i < n; i++)
        if (out[i].session == session)
            return &out[i];
    return NULL;
}

/* Does topic t reach session s (exactly once)? */
static inline bool rt_reaches(gn_router_reader *rd, const char *t, uint64_t s)
{
    static gn_delivery out[RT_MAXD];
    uint32_t n = rt_match(rd, t, out), k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += out[i].session == s;
    RT_CHECK(k <= 1, "session %llu delivered %u times for %s", (unsigned long long)s, k, t);
    return k == 1;
}

#endif
