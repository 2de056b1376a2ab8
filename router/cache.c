/* router/cache.c — per-thread match cache: allocation and replacement of
 * entries (lookup is inline in cache.h). */
#include "router/cache.h"

#include <stdlib.h>

gn_match_cache *gn_cache_create(uint32_t slots)
{
    uint32_t sets = 1;
    while (2 * sets < slots && sets < (1u << 23))
        sets *= 2;
    gn_match_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->slot = calloc(2 * (size_t)sets, sizeof *c->slot);
    if (!c->slot) {
        free(c);
        return NULL;
    }
    c->mask = sets - 1;
    return c;
}

void gn_cache_clear(gn_match_cache *c)
{
    for (uint32_t i = 0; i < 2 * (c->mask + 1); i++) {
        free(c->slot[i]);
        c->slot[i] = NULL;
    }
    c->bytes = 0;
}

void gn_cache_destroy(gn_match_cache *c)
{
    if (!c)
        return;
    gn_cache_clear(c);
    free(c->slot);
    free(c);
}

bool gn_cache_put(gn_match_cache *c, uint64_t hash, const uint8_t *topic, size_t len,
                  const gn_gen_tag *tag, const gn_delivery *d, uint32_t nd,
                  gn_share_group *const *g, uint32_t ng)
{
    if (nd + ng > GN_CACHE_MAX_RESULTS || len > UINT32_MAX)
        return false;
    size_t need = sizeof(gn_cache_entry) + sizeof *d * nd + sizeof *g * ng + len;
    /* Recycle a stale entry of the same topic (a generation ago) if the set
     * holds one, else the least recently used way (1); it becomes way 0. */
    gn_cache_entry **set = &c->slot[2 * (hash & c->mask)];
    gn_cache_entry **slot = &set[0];
    gn_cache_entry *e;
    if (set[0] && set[0]->hash == hash && set[0]->topic_len == len) {
        e = set[0];
    } else {
        e = set[1];
        set[1] = set[0];
        set[0] = e;
    }
    if (!e || e->size < need || e->size > 4 * need) {
        size_t alloc = (need + 63) & ~(size_t)63;
        gn_cache_entry *ne = malloc(alloc);
        if (!ne)
            return false;
        if (e)
            c->bytes -= e->size;
        free(e);
        e = ne;
        e->size = (uint32_t)alloc;
        c->bytes += alloc;
        *slot = e;
    }
    e->hash = hash;
    e->gen = tag->sum;
    e->nparts = tag->nparts;
    memcpy(e->part, tag->part, sizeof e->part[0] * tag->nparts);
    e->topic_len = (uint32_t)len;
    e->ndeliv = (uint16_t)nd;
    e->ngroups = (uint16_t)ng;
    e->has_nl = 0;
    for (uint32_t i = 0; i < nd; i++)
        e->has_nl |= (d[i].flags & GN_DELIVER_NL_SOME) != 0;
    if (nd != 0) /* d may be NULL when nothing matched */
        memcpy(gn_cache_deliv(e), d, sizeof *d * nd);
    if (ng != 0)
        memcpy(gn_cache_groups(e), g, sizeof *g * ng);
    memcpy((uint8_t *)gn_cache_topic(e), topic, len);
    return true;
}
