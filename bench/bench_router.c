/* bench/bench_router.c — router benchmark on a platform-like population of
 * 1 M subscriptions: per-device command filters
 * iot-2/type/T/id/I/cmd/+/fmt/+, per-type event wildcards, application-wide
 * iot-2/type/+/id/+/evt/+/fmt/+ (plain and shared groups "A:org:appN" and
 * $share/...). Prints one JSON object per line:
 *   populate (subscribe rate, bytes per subscription: allocator counter and
 *   RSS), matches/s on one thread uncached (router splits the topic, or the
 *   caller passes levels, or batches of 8 split by the caller with and
 *   without gn_router_prefetch) and cached, for command topics (1 delivery) and
 *   event topics (several deliveries + shared picks), two reader threads
 *   while a writer churns device command filters, then application
 *   wildcard filters, at a fixed rate (8 + 8 operations a burst), subscribe +
 *   unsubscribe rate, shared-group fairness and locality (both pickers,
 *   and with one member over the high-water mark), and a naive reference
 *   matcher (list of filters, string matching) on a smaller population of
 *   the same shape, side by side with the router on that population.
 * Usage: bench_router [subscriptions (default 1000000)] [seconds per
 * measurement (default 1.0)] [churn ops/s (default 10000)] [only tests
 * whose name contains this string, or exactly one test: =name] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec/topic.h"
#include "router/router.h"

enum { TYPES = 100, TOPIC_MAX = 96, POOL = 1 << 17, HOT = 2048 };

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void die(const char *what, gn_rerr e)
{
    fprintf(stderr, "bench_router: %s: %s\n", what, gn_rerr_name(e));
    exit(1);
}

/* ---------- population ---------- */

typedef struct pop {
    uint32_t devices;       /* device d has type d % TYPES */
    uint32_t subs;
} pop;

static int dev_cmd_filter(char *f, uint32_t d)
{
    return snprintf(f, TOPIC_MAX, "iot-2/type/t%03u/id/d%07u/cmd/+/fmt/+", d % TYPES, d);
}

static int cmd_topic(char *t, uint32_t d)
{
    return snprintf(t, TOPIC_MAX, "iot-2/type/t%03u/id/d%07u/cmd/reboot/fmt/json", d % TYPES, d);
}

static int evt_topic(char *t, uint32_t d)
{
    return snprintf(t, TOPIC_MAX, "iot-2/type/t%03u/id/d%07u/evt/status/fmt/json", d % TYPES, d);
}

static gn_rerr sub(gn_router *r, const char *f, uint64_t session, uint16_t shard)
{
    gn_subscriber who = {.session = session, .shard = shard};
    gn_sub_opts o = {.qos = 1};
    return gn_router_subscribe(r, (const uint8_t *)f, strlen(f), &who, &o, NULL);
}

/* Non-device subscriptions: 2 per type, 2 app-wide plain, 4 platform
 * groups x 8 members, 1 $share group x 4 members = 238. */
static uint32_t populate_apps(gn_router *r)
{
    char f[TOPIC_MAX];
    uint32_t n = 0;
    uint64_t s = 1ull << 40;
    for (uint32_t t = 0; t < TYPES; t++) {
        snprintf(f, sizeof f, "iot-2/type/t%03u/id/+/evt/+/fmt/+", t);
        if (sub(r, f, s++, (uint16_t)(t % 2)) != GN_ROUTER_OK)
            die("subscribe type", GN_ROUTER_ERR_FILTER_INVALID);
        snprintf(f, sizeof f, "iot-2/type/t%03u/id/+/evt/alert/fmt/+", t);
        sub(r, f, s++, 1);
        n += 2;
    }
    const char *all = "iot-2/type/+/id/+/evt/+/fmt/+";
    sub(r, all, s++, 0);
    sub(r, all, s++, 1);
    n += 2;
    for (int g = 0; g < 4; g++) {
        char name[32];
        snprintf(name, sizeof name, "A:org:app%d", g);
        for (int m = 0; m < 8; m++) {
            gn_subscriber who = {.session = s++, .shard = (uint16_t)(m % 2)};
            gn_sub_opts o = {.qos = 1};
            gn_rerr e = gn_router_group_subscribe(r, (const uint8_t *)name, strlen(name),
                                                  (const uint8_t *)all, strlen(all), &who, &o, NULL);
            if (e)
                die("group subscribe", e);
            n++;
        }
    }
    for (int m = 0; m < 4; m++) {
        sub(r, "$share/ana/iot-2/type/+/id/+/evt/+/fmt/json", s++, (uint16_t)(m % 2));
        n++;
    }
    return n;
}

static void populate_devices(gn_router *r, uint32_t devices)
{
    char f[TOPIC_MAX];
    for (uint32_t d = 0; d < devices; d++) {
        dev_cmd_filter(f, d);
        gn_rerr e = sub(r, f, d + 1, (uint16_t)(d % 2));
        if (e)
            die("subscribe device", e);
    }
}

/* ---------- topic pools ---------- */

typedef struct tpool {
    uint32_t n;
    uint16_t *len;
    char (*t)[TOPIC_MAX];
    gn_levels *lv;           /* optional pre-split levels */
} tpool;

static void pool_make(tpool *p, uint32_t n, uint32_t devices, bool evt, bool split)
{
    p->n = n;
    p->len = malloc(sizeof *p->len * n);
    p->t = malloc(sizeof *p->t * n);
    p->lv = split ? malloc(sizeof *p->lv * n) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d = (uint32_t)(rnd() % devices);
        p->len[i] = (uint16_t)(evt ? evt_topic(p->t[i], d) : cmd_topic(p->t[i], d));
        if (split)
            gn_topic_split((const uint8_t *)p->t[i], p->len[i], &p->lv[i]);
    }
}

static void pool_free(tpool *p)
{
    free(p->len);
    free(p->t);
    free(p->lv);
}

/* Match topics from the pool for `secs` of wall time; returns matches per
 * wall second, and per second of this thread's CPU time in *per_cpu_s (the
 * machine may be shared: CPU time excludes time spent descheduled). */
static double run_matches(gn_router_reader *rd, const tpool *p, uint32_t mask, bool use_levels,
                          double secs, uint64_t *deliveries, double *per_cpu_s)
{
    static _Thread_local gn_delivery out[1024];
    uint64_t n = 0, dl = 0;
    double c0 = cpu_now();
    double t0 = now(), t1;
    uint32_t i = 0;
    do {
        for (int k = 0; k < 4096; k++, i = (i + 1) & mask) {
            uint32_t c = 0;
            gn_rerr e = gn_router_match(rd, (const uint8_t *)p->t[i], p->len[i],
                                        use_levels ? &p->lv[i] : NULL, GN_ROUTER_NO_PUBLISHER, out,
                                        1024, &c);
            if (e)
                die("match", e);
            dl += c;
        }
        n += 4096;
        gn_router_quiescent(rd);
        t1 = now();
    } while (t1 - t0 < secs);
    if (deliveries)
        *deliveries = dl;
    if (per_cpu_s)
        *per_cpu_s = (double)n / (cpu_now() - c0);
    return (double)n / (t1 - t0);
}

/* Batches of 8: split each topic into a (hot) gn_levels, optionally
 * gn_router_prefetch the batch, then match each with its levels: what a
 * shard does with the PUBLISHes of one receive completion. */
static double run_batches(gn_router_reader *rd, const tpool *p, uint32_t mask, bool prefetch,
                          double secs, uint64_t *deliveries, double *per_cpu_s)
{
    enum { B = 8 };
    static _Thread_local gn_delivery out[1024];
    static _Thread_local gn_levels lv[B];
    const uint8_t *tp[B];
    const gn_levels *lp[B];
    uint64_t n = 0, dl = 0;
    double c0 = cpu_now(), t0 = now(), t1;
    uint32_t i = 0;
    do {
        for (int k = 0; k < 4096 / B; k++) {
            uint32_t base = i;
            for (int b = 0; b < B; b++, i = (i + 1) & mask) {
                tp[b] = (const uint8_t *)p->t[i];
                lp[b] = &lv[b];
                gn_topic_split(tp[b], p->len[i], &lv[b]);
            }
            if (prefetch)
                gn_router_prefetch(rd, B, tp, lp);
            for (int b = 0; b < B; b++) {
                uint32_t c = 0;
                gn_rerr e = gn_router_match(rd, tp[b], p->len[(base + (uint32_t)b) & mask], lp[b],
                                            GN_ROUTER_NO_PUBLISHER, out, 1024, &c);
                if (e)
                    die("match", e);
                dl += c;
            }
        }
        n += 4096;
        gn_router_quiescent(rd);
        t1 = now();
    } while (t1 - t0 < secs);
    *deliveries = dl;
    *per_cpu_s = (double)n / (cpu_now() - c0);
    return (double)n / (t1 - t0);
}

/* ---------- churn with two readers ---------- */

typedef struct churn_ctx {
    gn_router *r;
    const tpool *pool;
    uint32_t mask;
    uint16_t shard;
    double secs;
    double rate;
    double cpu_rate;
    uint64_t hits, misses;
} churn_ctx;

static atomic_bool churn_stop;

static void *churn_reader(void *arg)
{
    churn_ctx *c = arg;
    gn_router_reader *rd = gn_router_reader_register(c->r, c->shard);
    if (!rd)
        die("register", GN_ROUTER_ERR_TOO_MANY_READERS);
    c->rate = run_matches(rd, c->pool, c->mask, false, c->secs, NULL, &c->cpu_rate);
    gn_router_reader_stats st;
    gn_router_reader_get_stats(rd, &st);
    c->hits = st.cache_hits;
    c->misses = st.cache_misses;
    gn_router_reader_unregister(rd);
    return NULL;
}

typedef struct writer_ctx {
    gn_router *r;
    uint32_t first_device;
    double ops_per_s;
    bool apps;              /* churn application-wide wildcard filters instead of devices */
    uint64_t ops;
} writer_ctx;

/* The k-th filter a churning writer adds: a new device's command filter
 * (what device connects and disconnects do), or an application's
 * wildcard event filter (which every event topic's cache entry depends on). */
static void churn_filter(const writer_ctx *w, char *f, uint32_t k)
{
    if (w->apps)
        snprintf(f, TOPIC_MAX, "iot-2/type/+/id/+/evt/app%u/fmt/+", k);
    else
        dev_cmd_filter(f, w->first_device + k);
}

/* Subscribes and unsubscribes at ops_per_s, 8 + 8 operations at a time. */
static void *churn_writer(void *arg)
{
    enum { BURST = 8 };
    writer_ctx *w = arg;
    char f[TOPIC_MAX];
    double t0 = now();
    uint32_t live = 0;
    while (!atomic_load_explicit(&churn_stop, memory_order_relaxed)) {
        double due = t0 + (double)w->ops / w->ops_per_s;
        double t = now();
        if (t < due) {
            struct timespec ts = {0, (long)((due - t) * 1e9)};
            nanosleep(&ts, NULL);
            continue;
        }
        for (uint32_t k = 0; k < BURST; k++) {
            churn_filter(w, f, live + k);
            sub(w->r, f, w->first_device + live + k + 1, 0);
        }
        for (uint32_t k = 0; k < BURST; k++) {
            churn_filter(w, f, live + k);
            gn_router_unsubscribe(w->r, (const uint8_t *)f, strlen(f), w->first_device + live + k + 1);
        }
        live = (live + BURST) % 100000;
        w->ops += 2 * BURST;
    }
    return NULL;
}

/* ---------- shared groups: fairness and locality ---------- */

/* A router with the population's group shapes: 4 platform groups
 * "A:org:appN" x 8 members and "$share/ana" x 4 on the application-wide
 * event filter, members alternating between shards 0 and 1, each with a
 * queue-depth counter. Two readers (shards 0 and 1, used from this one
 * thread) each match `per_shard` event topics in a random interleaving
 * (two shards running side by side), or strictly taking turns with
 * `alternate` (the worst case for a shared round-robin ticket). With `overload`, member 0
 * of every group sits over the high-water mark for the whole run. Prints
 * per group the spread of messages per member around the mean (goal:
 * within +-5 % under equal load), the share of picks on the reader's own
 * shard, and the overloaded member's share. */
enum { FG = 5, FM = 8 };

static void run_fairness(const char *name, gn_share_pick_fn pick, bool overload, bool alternate,
                         uint32_t per_shard, uint32_t devices)
{
    gn_router_config cfg = {.share_pick = pick, .share_hwm = 64};
    gn_router *r = gn_router_create(&cfg);
    if (!r)
        die("create", GN_ROUTER_ERR_NOMEM);
    static _Atomic uint32_t depth[FG][FM];
    const char *all = "iot-2/type/+/id/+/evt/+/fmt/+";
    uint32_t members[FG];
    for (int g = 0; g < FG; g++) {
        members[g] = g < 4 ? 8 : 4;
        for (uint32_t m = 0; m < members[g]; m++) {
            atomic_store(&depth[g][m], overload && m == 0 ? 1000u : 0u);
            gn_subscriber who = {.session = (uint64_t)(g * FM + m + 1), .shard = (uint16_t)(m % 2),
                                 .queue_depth = &depth[g][m]};
            gn_sub_opts o = {.qos = 1};
            gn_rerr e;
            if (g < 4) {
                char gname[32];
                snprintf(gname, sizeof gname, "A:org:app%d", g);
                e = gn_router_group_subscribe(r, (const uint8_t *)gname, strlen(gname),
                                              (const uint8_t *)all, strlen(all), &who, &o, NULL);
            } else {
                const char *f = "$share/ana/iot-2/type/+/id/+/evt/+/fmt/+";
                e = gn_router_subscribe(r, (const uint8_t *)f, strlen(f), &who, &o, NULL);
            }
            if (e)
                die("fairness subscribe", e);
        }
    }
    gn_router_reader *rd[2] = {gn_router_reader_register(r, 0), gn_router_reader_register(r, 1)};
    static uint64_t count[FG][FM];
    memset(count, 0, sizeof count);
    uint64_t local = 0, shared = 0;
    char t[TOPIC_MAX];
    gn_delivery out[16];
    for (uint32_t i = 0; i < 2 * per_shard; i++) {
        int k = alternate ? (int)(i & 1) : (int)(rnd() >> 63);
        int tl = evt_topic(t, (uint32_t)(rnd() % devices));
        uint32_t c = 0;
        gn_rerr e = gn_router_match(rd[k], (const uint8_t *)t, (size_t)tl, NULL,
                                    GN_ROUTER_NO_PUBLISHER, out, 16, &c);
        if (e)
            die("fairness match", e);
        for (uint32_t d = 0; d < c; d++) {
            if (!(out[d].flags & GN_DELIVER_SHARED))
                continue;
            uint64_t sidx = out[d].session - 1;
            count[sidx / FM][sidx % FM]++;
            shared++;
            local += out[d].shard == k;
        }
        if ((i & 4095) == 4095) {
            gn_router_quiescent(rd[0]);
            gn_router_quiescent(rd[1]);
        }
    }
    double worst = 0, over_share = 0;
    for (int g = 0; g < FG; g++) {
        uint64_t sum = 0, n = 0;
        for (uint32_t m = overload ? 1 : 0; m < members[g]; m++, n++)
            sum += count[g][m];
        double mean = (double)sum / (double)n;
        for (uint32_t m = overload ? 1 : 0; m < members[g]; m++) {
            double dev = ((double)count[g][m] - mean) / mean * 100.0;
            if (dev < 0)
                dev = -dev;
            if (dev > worst)
                worst = dev;
        }
        if (overload) {
            double sh = (double)count[g][0] / (double)(sum + count[g][0]);
            if (sh > over_share)
                over_share = sh;
        }
    }
    printf("{\"bench\":\"router\",\"test\":\"%s\",\"groups\":%d,\"messages\":%u,"
           "\"shared_deliveries\":%llu,\"max_member_deviation_pct\":%.2f,"
           "\"local_pick_ratio\":%.4f,\"overloaded_member_share\":%.4f,"
           "\"members_per_group\":[%u,%u,%u,%u,%u]}\n",
           name, FG, 2 * per_shard, (unsigned long long)shared, worst,
           shared ? (double)local / (double)shared : 0.0, over_share, members[0], members[1],
           members[2], members[3], members[4]);
    fflush(stdout);
    gn_router_reader_unregister(rd[0]);
    gn_router_reader_unregister(rd[1]);
    gn_router_destroy(r);
}

/* ---------- naive reference ---------- */

static bool naive_match(const char *t, size_t tl, const char *f, size_t fl)
{
    if (tl && t[0] == '$' && fl && (f[0] == '+' || f[0] == '#'))
        return false;
    size_t tp = 0, fp = 0;
    for (;;) {
        bool fhas = fp <= fl, thas = tp <= tl;
        size_t fe = fp, te = tp;
        while (fe < fl && f[fe] != '/')
            fe++;
        if (fhas && fe - fp == 1 && f[fp] == '#')
            return true;
        while (te < tl && t[te] != '/')
            te++;
        if (!fhas || !thas)
            return fhas == thas;
        if (!(fe - fp == 1 && f[fp] == '+') &&
            (fe - fp != te - tp || memcmp(f + fp, t + tp, fe - fp) != 0))
            return false;
        fp = fe + 1;
        tp = te + 1;
    }
}

static double run_naive(uint32_t devices, double secs, uint32_t *nsubs)
{
    uint32_t cap = devices + 300, n = 0;
    char (*fs)[TOPIC_MAX] = malloc(sizeof *fs * cap);
    uint16_t *fl = malloc(sizeof *fl * cap);
    for (uint32_t t = 0; t < TYPES; t++) {
        fl[n] = (uint16_t)snprintf(fs[n], TOPIC_MAX, "iot-2/type/t%03u/id/+/evt/+/fmt/+", t);
        n++;
        fl[n] = (uint16_t)snprintf(fs[n], TOPIC_MAX, "iot-2/type/t%03u/id/+/evt/alert/fmt/+", t);
        n++;
    }
    for (int k = 0; k < 2 + 32 + 4; k++) {
        fl[n] = (uint16_t)snprintf(fs[n], TOPIC_MAX, "iot-2/type/+/id/+/evt/+/fmt/+");
        n++;
    }
    for (uint32_t d = 0; d < devices; d++) {
        fl[n] = (uint16_t)dev_cmd_filter(fs[n], d);
        n++;
    }
    tpool p;
    pool_make(&p, 4096, devices, true, false);
    uint64_t m = 0, hits = 0;
    double t0 = now(), t1;
    uint32_t i = 0;
    do {
        for (int k = 0; k < 16; k++, i = (i + 1) & 4095) {
            for (uint32_t j = 0; j < n; j++)
                hits += naive_match(p.t[i], p.len[i], fs[j], fl[j]);
            m++;
        }
        t1 = now();
    } while (t1 - t0 < secs);
    if (hits == 0)
        die("naive matched nothing", GN_ROUTER_ERR_NOT_FOUND);
    pool_free(&p);
    free(fs);
    free(fl);
    *nsubs = n;
    return (double)m / (t1 - t0);
}

/* ---------- QSBR: router/qsbr.c vs liburcu-qsbr (optional) ----------
 * Built only with -DGN_BENCH_URCU (needs Debian liburcu-dev), see the
 * command in docs/PERFORMANCE.md; run as `bench_router qsbr`. Measures the
 * reader's quiescent-state cost, defer + reclaim throughput while two
 * readers report, and synchronize latency (one object pending). */
#ifdef GN_BENCH_URCU
#define _LGPL_SOURCE
#include <urcu/urcu-qsbr.h> /* first: selects the flavour call-rcu.h maps to */
#include <urcu/call-rcu.h>

#include "router/qsbr.h"

static gn_qsbr *uq;
static atomic_int ustop;

static void *our_reader(void *a)
{
    (void)a;
    gn_qsbr_reader *r = gn_qsbr_register(uq);
    while (!atomic_load_explicit(&ustop, memory_order_relaxed)) {
        for (int i = 0; i < 100; i++)
            __asm__ volatile("");
        gn_qsbr_quiescent(r);
    }
    gn_qsbr_unregister(r);
    return NULL;
}

static void *urcu_reader(void *a)
{
    (void)a;
    urcu_qsbr_register_thread();
    while (!atomic_load_explicit(&ustop, memory_order_relaxed)) {
        for (int i = 0; i < 100; i++)
            __asm__ volatile("");
        urcu_qsbr_quiescent_state();
    }
    urcu_qsbr_unregister_thread();
    return NULL;
}

static void plain_free(void *c, void *p)
{
    (void)c;
    free(p);
}

struct uobj {
    struct rcu_head h;
    char pad[40];
};

static void uobj_free(struct rcu_head *h)
{
    free(caa_container_of(h, struct uobj, h));
}

static void bench_qsbr_vs_urcu(void)
{
    enum { N = 50000000, M = 2000000, S = 2000 };
    uq = gn_qsbr_create(8);
    gn_qsbr_reader *me = gn_qsbr_register(uq);
    double t = now();
    for (int i = 0; i < N; i++)
        gn_qsbr_quiescent(me);
    double ours_q = (now() - t) / N * 1e9;
    gn_qsbr_unregister(me);
    urcu_qsbr_register_thread();
    t = now();
    for (int i = 0; i < N; i++)
        urcu_qsbr_quiescent_state();
    double urcu_q = (now() - t) / N * 1e9;
    urcu_qsbr_thread_offline();
    pthread_t th[2];
    atomic_store(&ustop, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, our_reader, NULL);
    t = now();
    for (int i = 0; i < M; i++) {
        gn_qsbr_defer(uq, plain_free, NULL, malloc(56));
        if (i % 64 == 63)
            gn_qsbr_poll(uq);
    }
    gn_qsbr_synchronize(uq, NULL);
    double ours_d = M / (now() - t);
    t = now();
    for (int i = 0; i < S; i++) {
        gn_qsbr_defer(uq, plain_free, NULL, malloc(56));
        gn_qsbr_synchronize(uq, NULL);
    }
    double ours_s = (now() - t) / S * 1e6;
    atomic_store(&ustop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    atomic_store(&ustop, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, urcu_reader, NULL);
    t = now();
    for (int i = 0; i < M; i++) {
        struct uobj *o = malloc(sizeof *o);
        urcu_qsbr_call_rcu(&o->h, uobj_free);
    }
    urcu_qsbr_barrier();
    double urcu_d = M / (now() - t);
    t = now();
    for (int i = 0; i < S; i++)
        urcu_qsbr_synchronize_rcu();
    double urcu_s = (now() - t) / S * 1e6;
    atomic_store(&ustop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("{\"bench\":\"router\",\"test\":\"qsbr_vs_urcu\",\"quiescent_ns\":{\"gannet\":%.2f,"
           "\"urcu_qsbr\":%.2f},\"defer_reclaim_per_s\":{\"gannet\":%.0f,\"urcu_qsbr_call_rcu\":%.0f},"
           "\"synchronize_us\":{\"gannet\":%.1f,\"urcu_qsbr\":%.1f}}\n",
           ours_q, urcu_q, ours_d, urcu_d, ours_s, urcu_s);
    gn_qsbr_destroy(uq);
}
#endif

/* ---------- main ---------- */

/* Test selection: every test (NULL), those whose name contains `only`, or
 * exactly one with "=name". */
static bool selected(const char *only, const char *name)
{
    if (!only)
        return true;
    if (only[0] == '=')
        return strcmp(name, only + 1) == 0;
    return strstr(name, only) != NULL;
}

int main(int argc, char **argv)
{
#ifdef GN_BENCH_URCU
    if (argc > 1 && strcmp(argv[1], "qsbr") == 0) {
        bench_qsbr_vs_urcu();
        return 0;
    }
#endif
    uint32_t total = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
    double secs = argc > 2 ? strtod(argv[2], NULL) : 1.0;
    double churn_rate = argc > 3 ? strtod(argv[3], NULL) : 10000;
    const char *only = argc > 4 ? argv[4] : NULL; /* run only tests whose name contains this */
    if (total < 1000)
        total = 1000;

    long rss0 = rss_bytes();
    gn_router_config cfg = {.cache_slots = 16384};
    gn_router *r = gn_router_create(&cfg);
    if (!r)
        die("create", GN_ROUTER_ERR_NOMEM);
    double t0 = now();
    uint32_t apps = populate_apps(r);
    uint32_t devices = total - apps;
    populate_devices(r, devices);
    double t1 = now();
    gn_router_synchronize(r, NULL);
    gn_router_stats st;
    gn_router_get_stats(r, &st);
    long rss1 = rss_bytes();
    printf("{\"bench\":\"router\",\"test\":\"populate\",\"subscriptions\":%llu,\"devices\":%u,"
           "\"nodes\":%llu,\"seconds\":%.3f,\"subscribe_per_s\":%.0f,\"bytes\":%llu,"
           "\"bytes_per_sub\":%.1f,\"rss_bytes_per_sub\":%.1f}\n",
           (unsigned long long)st.subscriptions, devices, (unsigned long long)st.nodes, t1 - t0,
           total / (t1 - t0), (unsigned long long)st.bytes, (double)st.bytes / st.subscriptions,
           (double)(rss1 - rss0) / st.subscriptions);
    fflush(stdout);

    gn_router_reader *rd = gn_router_reader_register(r, 0);
    tpool cmd, evt, hot_cmd, hot_evt;
    pool_make(&cmd, POOL, devices, false, true);
    pool_make(&evt, POOL, devices, true, true);
    pool_make(&hot_cmd, HOT, devices, false, true);
    pool_make(&hot_evt, HOT, devices, true, true);

    struct {
        const char *name;
        tpool *p;
        uint32_t mask;
        bool cache, levels;
        int batch;            /* 0: one by one; 1: batches of 8; 2: + prefetch */
    } runs[] = {
        {"uncached_cmd", &cmd, POOL - 1, false, false, 0},
        {"uncached_cmd_presplit", &cmd, POOL - 1, false, true, 0},
        {"uncached_cmd_batch8", &cmd, POOL - 1, false, true, 1},
        {"uncached_cmd_batch8_prefetch", &cmd, POOL - 1, false, true, 2},
        {"uncached_evt", &evt, POOL - 1, false, false, 0},
        {"uncached_evt_presplit", &evt, POOL - 1, false, true, 0},
        {"uncached_evt_batch8", &evt, POOL - 1, false, true, 1},
        {"uncached_evt_batch8_prefetch", &evt, POOL - 1, false, true, 2},
        {"cached_cmd", &hot_cmd, HOT - 1, true, false, 0},
        {"cached_evt", &hot_evt, HOT - 1, true, false, 0},
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        if (!selected(only, runs[k].name))
            continue;
        gn_router_reader_cache_enable(rd, false);
        if (runs[k].cache) {
            gn_router_reader_cache_enable(rd, true);
            run_matches(rd, runs[k].p, runs[k].mask, runs[k].levels, 0.05, NULL, NULL); /* warm */
        }
        gn_router_reader_stats s0, s1;
        gn_router_reader_get_stats(rd, &s0);
        uint64_t dl = 0;
        double cpu_rate = 0;
        double rate = runs[k].batch
            ? run_batches(rd, runs[k].p, runs[k].mask, runs[k].batch == 2, secs, &dl, &cpu_rate)
            : run_matches(rd, runs[k].p, runs[k].mask, runs[k].levels, secs, &dl, &cpu_rate);
        gn_router_reader_get_stats(rd, &s1);
        uint64_t m = s1.matches - s0.matches;
        printf("{\"bench\":\"router\",\"test\":\"%s\",\"threads\":1,\"matches_per_s\":%.0f,"
               "\"matches_per_cpu_s\":%.0f,\"deliveries_per_match\":%.2f,\"cache_hit_ratio\":%.4f}\n",
               runs[k].name, rate, cpu_rate, (double)dl / (double)m,
               m ? (double)(s1.cache_hits - s0.cache_hits) / (double)m : 0.0);
        fflush(stdout);
    }

    /* two readers (cached working set of event topics) + churning writer:
     * device command filters (the platform's churn), then application
     * wildcard filters (which every event topic depends on) */
    for (int apps = 0; apps < 2; apps++) {
        const char *name = apps ? "two_readers_with_app_churn" : "two_readers_with_churn";
        if (!selected(only, name))
            continue;
        gn_router_offline(rd);
        atomic_store(&churn_stop, false);
        writer_ctx w = {.r = r, .first_device = devices + 1000, .ops_per_s = churn_rate,
                        .apps = apps == 1};
        churn_ctx c[2];
        pthread_t th[2], wt;
        pthread_create(&wt, NULL, churn_writer, &w);
        for (int i = 0; i < 2; i++) {
            c[i] = (churn_ctx){.r = r, .pool = &hot_evt, .mask = HOT - 1, .shard = (uint16_t)i,
                               .secs = secs};
            pthread_create(&th[i], NULL, churn_reader, &c[i]);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        atomic_store(&churn_stop, true);
        pthread_join(wt, NULL);
        printf("{\"bench\":\"router\",\"test\":\"%s\",\"threads\":2,"
               "\"writer_ops_per_s_target\":%.0f,\"writer_ops\":%llu,\"matches_per_s\":%.0f,"
               "\"per_thread\":[%.0f,%.0f],\"matches_per_cpu_s_per_thread\":[%.0f,%.0f],"
               "\"cache_hit_ratio\":%.4f}\n",
               name, churn_rate, (unsigned long long)w.ops, c[0].rate + c[1].rate, c[0].rate,
               c[1].rate, c[0].cpu_rate, c[1].cpu_rate,
               (double)(c[0].hits + c[1].hits) /
                   (double)(c[0].hits + c[0].misses + c[1].hits + c[1].misses));
        fflush(stdout);
        gn_router_online(rd);
    }

    /* shared groups: fairness and locality (own small router, same shapes) */
    struct {
        const char *name;
        gn_share_pick_fn pick;
        bool overload, alternate;
    } fair[] = {
        {"share_fairness_local_rr", gn_share_pick_local_rr, false, false},
        {"share_fairness_local_rr_alternating", gn_share_pick_local_rr, false, true},
        {"share_fairness_rr", gn_share_pick_rr, false, false},
        {"share_fairness_local_rr_one_overloaded", gn_share_pick_local_rr, true, false},
    };
    for (size_t k = 0; k < sizeof fair / sizeof fair[0]; k++)
        if (selected(only, fair[k].name))
            run_fairness(fair[k].name, fair[k].pick, fair[k].overload, fair[k].alternate, 200000,
                         devices);

    /* subscribe + unsubscribe rate: 200 k new device filters, then removed;
     * the filter strings are made before the clock starts (the engine has
     * the bytes from the SUBSCRIBE packet) */
    if (selected(only, "subscribe_unsubscribe")) {
        enum { N = 200000 };
        char (*fs)[TOPIC_MAX] = malloc(sizeof *fs * N);
        uint16_t *fl = malloc(sizeof *fl * N);
        if (!fs || !fl)
            die("bench memory", GN_ROUTER_ERR_NOMEM);
        for (uint32_t d = 0; d < N; d++)
            fl[d] = (uint16_t)dev_cmd_filter(fs[d], devices + 200000 + d);
        gn_sub_opts o = {.qos = 1};
        double a = now(), ca = cpu_now();
        for (uint32_t d = 0; d < N; d++) {
            gn_subscriber who = {.session = devices + 200000 + d + 1, .shard = 0};
            gn_rerr e = gn_router_subscribe(r, (const uint8_t *)fs[d], fl[d], &who, &o, NULL);
            if (e)
                die("subscribe", e);
        }
        double b = now();
        for (uint32_t d = 0; d < N; d++) {
            gn_rerr e = gn_router_unsubscribe(r, (const uint8_t *)fs[d], fl[d], devices + 200000 + d + 1);
            if (e)
                die("unsubscribe", e);
        }
        double e = now(), ce = cpu_now();
        free(fs);
        free(fl);
        printf("{\"bench\":\"router\",\"test\":\"subscribe_unsubscribe\",\"n\":%d,\"subscribe_per_s\":%.0f,"
               "\"unsubscribe_per_s\":%.0f,\"sub_plus_unsub_ops_per_s\":%.0f,\"pairs_per_s\":%.0f,"
               "\"ops_per_cpu_s\":%.0f,\"pairs_per_cpu_s\":%.0f}\n",
               N, N / (b - a), N / (e - b), 2.0 * N / (e - a), N / (e - a), 2.0 * N / (ce - ca),
               N / (ce - ca));
        fflush(stdout);
    }

    /* naive reference on a smaller population of the same shape */
    if (selected(only, "naive_reference_evt")) {
        uint32_t ndev = total / 100, nsubs = 0;
        double rate = run_naive(ndev, secs, &nsubs);
        /* the router, uncached, on the same population and topics */
        gn_router_config scfg = {.cache_disabled = true};
        gn_router *sr = gn_router_create(&scfg);
        if (!sr)
            die("create", GN_ROUTER_ERR_NOMEM);
        populate_apps(sr);
        populate_devices(sr, ndev);
        gn_router_reader *srd = gn_router_reader_register(sr, 0);
        tpool sp;
        pool_make(&sp, 4096, ndev, true, false);
        double rrate = run_matches(srd, &sp, 4095, false, secs, NULL, NULL);
        pool_free(&sp);
        gn_router_reader_unregister(srd);
        gn_router_destroy(sr);
        printf("{\"bench\":\"router\",\"test\":\"naive_reference_evt\",\"threads\":1,\"subscriptions\":%u,"
               "\"matches_per_s\":%.0f,\"router_uncached_matches_per_s\":%.0f,"
               "\"router_over_naive\":%.0f}\n",
               nsubs, rate, rrate, rrate / rate);
    }

    pool_free(&cmd);
    pool_free(&evt);
    pool_free(&hot_cmd);
    pool_free(&hot_evt);
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
    return 0;
}
