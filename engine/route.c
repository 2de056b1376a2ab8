/* engine/route.c — routing for the engine until router/router.h (the
 * lock-free trie, issue 3) is in the tree: one mutex-protected list of
 * subscriptions matched linearly, and a list of retained messages. Same
 * contract as engine/route.h; $share filters are plain filters here. */
#include "engine/route.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct isub {
    uint64_t sid;
    uint16_t shard;
    uint8_t opts;
    uint32_t sub_id;
    char *f;
    size_t len;
} isub;
typedef struct iret {
    char *t;
    size_t len;
    gn_msg *m;
} iret;
struct gn_router {
    pthread_mutex_t mu;
    isub *s;
    size_t n, cap;
    iret *r;
    size_t nr, capr;
};

struct gn_router *gn_route_create(uint16_t nshards)
{
    (void)nshards;
    struct gn_router *r = calloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}
void gn_route_destroy(struct gn_router *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->s[i].f);
    for (size_t i = 0; i < r->nr; i++) {
        free(r->r[i].t);
        gn_msg_unref(r->r[i].m);
    }
    free(r->s);
    free(r->r);
    free(r);
}
int gn_route_reader_register(gn_route_ctx *rc, struct gn_router *r, uint16_t shard)
{
    rc->router = r;
    rc->shard = shard;
    return 0;
}
void gn_route_reader_unregister(gn_route_ctx *rc)
{
    free(rc->buf);
    rc->buf = NULL;
}
void gn_route_quiescent(gn_route_ctx *rc)
{
    (void)rc;
}
void gn_route_offline(gn_route_ctx *rc)
{
    (void)rc;
}
void gn_route_online(gn_route_ctx *rc)
{
    (void)rc;
}

static bool match(const char *f, size_t fl, const uint8_t *t, size_t tl)
{
    if (tl && t[0] == '$' && fl && (f[0] == '+' || f[0] == '#'))
        return false;
    size_t i = 0, j = 0;
    for (;;) {
        size_t fe = i, te = j;
        while (fe < fl && f[fe] != '/')
            fe++;
        while (te < tl && t[te] != '/')
            te++;
        if (fe - i == 1 && f[i] == '#')
            return true;
        bool plus = fe - i == 1 && f[i] == '+';
        if (!plus && (fe - i != te - j || memcmp(f + i, t + j, fe - i) != 0))
            return false;
        bool flast = fe >= fl, tlast = te >= tl;
        if (flast && tlast)
            return true;
        if (tlast)
            return fe + 2 == fl && f[fe + 1] == '#';    /* "a/#" matches "a" */
        if (flast)
            return false;
        i = fe + 1;
        j = te + 1;
    }
}

uint8_t gn_route_subscribe(gn_route_ctx *rc, uint64_t sid, const uint8_t *filter, size_t len,
                           uint8_t opts, uint32_t sub_id, bool *existed)
{
    struct gn_router *r = rc->router;
    pthread_mutex_lock(&r->mu);
    *existed = false;
    for (size_t i = 0; i < r->n; i++)
        if (r->s[i].sid == sid && r->s[i].shard == rc->shard && r->s[i].len == len &&
            !memcmp(r->s[i].f, filter, len)) {
            r->s[i].opts = opts;
            r->s[i].sub_id = sub_id;
            *existed = true;
            pthread_mutex_unlock(&r->mu);
            return opts & 3;
        }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->s = realloc(r->s, sizeof *r->s * r->cap);
    }
    char *f = malloc(len + 1);
    memcpy(f, filter, len);
    f[len] = 0;
    r->s[r->n++] = (isub){sid, rc->shard, opts, sub_id, f, len};
    pthread_mutex_unlock(&r->mu);
    return opts & 3;
}
bool gn_route_unsubscribe(gn_route_ctx *rc, uint64_t sid, const uint8_t *filter, size_t len)
{
    struct gn_router *r = rc->router;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        if (r->s[i].sid == sid && r->s[i].shard == rc->shard && r->s[i].len == len &&
            !memcmp(r->s[i].f, filter, len)) {
            free(r->s[i].f);
            r->s[i] = r->s[--r->n];
            pthread_mutex_unlock(&r->mu);
            return true;
        }
    pthread_mutex_unlock(&r->mu);
    return false;
}
size_t gn_route_match(gn_route_ctx *rc, const uint8_t *topic, size_t len, uint64_t pub,
                      const gn_rdeliv **out)
{
    struct gn_router *r = rc->router;
    pthread_mutex_lock(&r->mu);
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        isub *s = &r->s[i];
        if (!match(s->f, s->len, topic, len))
            continue;
        if ((s->opts & 4) && s->sid == pub && s->shard == rc->shard)
            continue;
        size_t k;
        for (k = 0; k < n; k++)
            if (rc->buf[k].session == s->sid && rc->buf[k].shard == s->shard)
                break;
        if (k == n) {
            if (n == rc->cap) {
                rc->cap = rc->cap ? rc->cap * 2 : 16;
                rc->buf = realloc(rc->buf, sizeof *rc->buf * rc->cap);
            }
            memset(&rc->buf[n], 0, sizeof rc->buf[n]);
            rc->buf[n].session = s->sid;
            rc->buf[n].shard = s->shard;
            n++;
        }
        gn_rdeliv *d = &rc->buf[k];
        if ((s->opts & 3) > d->qos)
            d->qos = s->opts & 3;
        if (s->opts & 8)
            d->flags |= GN_RD_RAP;
        if (s->sub_id && d->nsub_ids < GN_RD_MAX_SUB_IDS)
            d->sub_ids[d->nsub_ids++] = s->sub_id;
    }
    pthread_mutex_unlock(&r->mu);
    *out = rc->buf;
    return n;
}
void gn_route_retain(gn_route_ctx *rc, const uint8_t *topic, size_t len, gn_msg *msg)
{
    struct gn_router *r = rc->router;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->nr; i++)
        if (r->r[i].len == len && !memcmp(r->r[i].t, topic, len)) {
            gn_msg_unref(r->r[i].m);
            if (msg)
                r->r[i].m = gn_msg_ref(msg);
            else {
                free(r->r[i].t);
                r->r[i] = r->r[--r->nr];
            }
            pthread_mutex_unlock(&r->mu);
            return;
        }
    if (msg) {
        if (r->nr == r->capr) {
            r->capr = r->capr ? r->capr * 2 : 16;
            r->r = realloc(r->r, sizeof *r->r * r->capr);
        }
        char *t = malloc(len + 1);
        memcpy(t, topic, len);
        r->r[r->nr++] = (iret){t, len, gn_msg_ref(msg)};
    }
    pthread_mutex_unlock(&r->mu);
}
void gn_route_retained(gn_route_ctx *rc, const uint8_t *filter, size_t len,
                       void (*fn)(void *ctx, gn_msg *m), void *ctx)
{
    struct gn_router *r = rc->router;
    pthread_mutex_lock(&r->mu);
    gn_msg *ms[256];
    size_t n = 0;
    for (size_t i = 0; i < r->nr && n < 256; i++)
        if (match((const char *)filter, len, (const uint8_t *)r->r[i].t, r->r[i].len))
            ms[n++] = gn_msg_ref(r->r[i].m);
    pthread_mutex_unlock(&r->mu);
    for (size_t i = 0; i < n; i++) {
        fn(ctx, ms[i]);
        gn_msg_unref(ms[i]);
    }
}
