/* engine/platform/app_counts.c — the org-wide counts of scalable
 * applications (S-020, S-100, S-105): connected members per application
 * (the 50-instance quota), shared groups per org (the 10-group quota) and
 * connected applications per monitoring topic (the retained Connect stays
 * while any member is connected). One fixed table of atomic counters keyed
 * by a 64-bit hash of a tagged name, shared by every shard: a key is
 * claimed with one CAS and never freed (a count that returns to 0 keeps
 * its slot for the next use of the same name). Counting is lock-free; the
 * monitoring topics' retained store updates are serialised per topic by a
 * spin flag (connect and disconnect only, never a PUBLISH). */
#include <sched.h>
#include <string.h>
#include <xxhash.h>

#include "engine/platform/platform_int.h"
#include "engine/shard.h"

static uint64_t key_of(char tag, const char *a, size_t al, const char *b, size_t bl)
{
    uint64_t seed = XXH3_64bits(b, bl) ^ ((uint64_t)(unsigned char)tag << 56);
    uint64_t k = XXH3_64bits_withSeed(a, al, seed);
    return k ? k : 1;               /* 0 marks a free slot */
}

gn_app_count *gn_plat_count(gn_platform *p, char tag, const char *a, size_t al, const char *b,
                            size_t bl)
{
    uint64_t k = key_of(tag, a, al, b, bl);
    for (uint32_t i = 0; i < GN_APP_COUNT_SLOTS; i++) {
        gn_app_count *e = &p->counts[(k + i) & (GN_APP_COUNT_SLOTS - 1)];
        /* relaxed: the key is the slot's only content until claimed; the
         * counters are independent atomics */
        uint64_t have = atomic_load_explicit(&e->key, memory_order_relaxed);
        if (have == k)
            return e;
        if (have == 0) {
            uint64_t zero = 0;
            /* relaxed: claiming publishes nothing but the key itself */
            if (atomic_compare_exchange_strong_explicit(&e->key, &zero, k, memory_order_relaxed,
                                                        memory_order_relaxed) ||
                zero == k)
                return e;
        }
    }
    return NULL;
}

bool gn_plat_count_take(gn_app_count *e, uint32_t limit)
{
    if (!e)
        return true;
    /* relaxed: a count (add, then undo when over; never stays over limit) */
    uint32_t n = atomic_fetch_add_explicit(&e->n, 1, memory_order_relaxed);
    if (limit && n >= limit) {
        atomic_fetch_sub_explicit(&e->n, 1, memory_order_relaxed);
        return false;
    }
    return true;
}

uint32_t gn_plat_count_release(gn_app_count *e)
{
    if (!e)
        return 0;
    /* relaxed: a count, see gn_plat_count_take */
    return atomic_fetch_sub_explicit(&e->n, 1, memory_order_relaxed) - 1;
}

bool gn_plat_count_join(gn_app_count *ref, gn_app_count *total, uint32_t limit)
{
    if (!ref)
        return gn_plat_count_take(total, limit);
    /* relaxed: the reference count alone decides who takes the total's unit */
    uint32_t n = atomic_load_explicit(&ref->n, memory_order_relaxed);
    for (;;) {
        if (n == 0) {
            if (!gn_plat_count_take(total, limit))
                return false;
            if (atomic_compare_exchange_weak_explicit(&ref->n, &n, 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                return true;
            gn_plat_count_release(total);       /* another member created it meanwhile */
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&ref->n, &n, n + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}

void gn_plat_count_leave(gn_app_count *ref, gn_app_count *total)
{
    if (!ref) {
        gn_plat_count_release(total);
        return;
    }
    if (gn_plat_count_release(ref) == 0)
        gn_plat_count_release(total);
}

void gn_plat_count_lock(gn_app_count *e)
{
    if (!e)
        return;
    /* acquire: the retained-store update of the previous holder is done */
    while (atomic_exchange_explicit(&e->busy, 1, memory_order_acquire))
        sched_yield();
}

void gn_plat_count_unlock(gn_app_count *e)
{
    if (e)
        /* release: our retained-store update before the next holder's */
        atomic_store_explicit(&e->busy, 0, memory_order_release);
}

/* ------------------------------------------------------ shared groups */

#define GROUP_HEAD "$share/A:"

/* The org of a group filter "$share/A:{org}:{app}[:*]/...", false for
 * other filters. */
static bool group_org(const uint8_t *f, size_t len, const char **org, size_t *ol)
{
    size_t hl = sizeof GROUP_HEAD - 1;
    if (len <= hl || memcmp(f, GROUP_HEAD, hl) != 0)
        return false;
    const uint8_t *colon = memchr(f + hl, ':', len - hl);
    if (!colon)
        return false;
    *org = (const char *)f + hl;
    *ol = (size_t)(colon - (f + hl));
    return true;
}

bool gn_plat_group_join(gn_shard *s, const uint8_t *f, size_t len)
{
    gn_platform *p = s->eng->plat;
    const char *org;
    size_t ol;
    if (!p || !group_org(f, len, &org, &ol))
        return true;
    gn_app_count *ref = gn_plat_count(p, GN_COUNT_GROUP, (const char *)f, len, "", 0);
    gn_app_count *total = gn_plat_count(p, GN_COUNT_GROUPS, org, ol, "", 0);
    return gn_plat_count_join(ref, total, s->cfg.platform_max_app_groups);
}

void gn_plat_group_leave(gn_shard *s, const uint8_t *f, size_t len)
{
    gn_platform *p = s->eng->plat;
    const char *org;
    size_t ol;
    if (!p || !group_org(f, len, &org, &ol))
        return;
    gn_plat_count_leave(gn_plat_count(p, GN_COUNT_GROUP, (const char *)f, len, "", 0),
                        gn_plat_count(p, GN_COUNT_GROUPS, org, ol, "", 0));
}
