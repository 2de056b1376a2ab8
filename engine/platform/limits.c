/* engine/platform/limits.c — the shared counters behind the connection
 * limits: connections and connected devices per org (173) in a fixed
 * table of atomics keyed by org id, and the server-wide connection count (104) summed over shards.
 * Inserting an org takes a mutex (once per org); counting is lock-free. */
#include <string.h>
#include <xxhash.h>

#include "engine/platform/platform_int.h"
#include "engine/session.h"
#include "engine/shard.h"

uint32_t gn_plat_min_limit(uint32_t a, uint32_t b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}

static bool slot_is(gn_org_slot *o, const char *org, size_t len)
{
    return strlen(o->org) == len && memcmp(o->org, org, len) == 0;
}

uint32_t gn_plat_org_slot(gn_platform *p, const char *org, size_t len)
{
    if (len > GN_PLAT_ORG_MAX)
        return UINT32_MAX;
    uint32_t h = (uint32_t)XXH3_64bits(org, len) & (GN_ORG_SLOTS - 1);
    for (uint32_t i = 0; i < GN_ORG_SLOTS; i++) {
        gn_org_slot *o = &p->orgs[(h + i) & (GN_ORG_SLOTS - 1)];
        /* acquire: pairs with the release below, the name is complete */
        if (!atomic_load_explicit(&o->used, memory_order_acquire))
            break;
        if (slot_is(o, org, len))
            return (h + i) & (GN_ORG_SLOTS - 1);
    }
    pthread_mutex_lock(&p->org_mu);
    uint32_t found = UINT32_MAX;
    for (uint32_t i = 0; i < GN_ORG_SLOTS; i++) {
        uint32_t k = (h + i) & (GN_ORG_SLOTS - 1);
        gn_org_slot *o = &p->orgs[k];
        /* relaxed: inserts are serialised by org_mu */
        if (atomic_load_explicit(&o->used, memory_order_relaxed)) {
            if (slot_is(o, org, len)) {
                found = k;
                break;
            }
            continue;
        }
        memcpy(o->org, org, len);
        o->org[len] = 0;
        /* release: readers that see used also see the name */
        atomic_store_explicit(&o->used, 1, memory_order_release);
        found = k;
        break;
    }
    pthread_mutex_unlock(&p->org_mu);
    return found;
}

bool gn_plat_org_take(gn_platform *p, uint32_t slot, gn_org_count what, uint32_t limit)
{
    if (slot == UINT32_MAX)
        return true;
    _Atomic uint32_t *c = &p->orgs[slot].count[what];
    /* relaxed: a count (add, then undo when over; never exceeds limit) */
    uint32_t n = atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
    if (limit && n >= limit) {
        atomic_fetch_sub_explicit(c, 1, memory_order_relaxed);
        return false;
    }
    return true;
}

void gn_plat_org_release(gn_platform *p, uint32_t slot, gn_org_count what)
{
    if (slot != UINT32_MAX)
        /* relaxed: a count, see gn_plat_org_take */
        atomic_fetch_sub_explicit(&p->orgs[slot].count[what], 1, memory_order_relaxed);
}

uint64_t gn_plat_server_conns(const gn_shard *s)
{
    uint64_t n = 0;
    for (uint16_t i = 0; i < s->nshards; i++)
        /* relaxed: an admission estimate, as for max_connections */
        n += atomic_load_explicit(&s->eng->shards[i].stats.conns_current, memory_order_relaxed);
    return n;
}
