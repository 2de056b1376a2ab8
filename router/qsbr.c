/* router/qsbr.c — QSBR grace periods: one global epoch, one padded counter
 * per reader, deferred frees collected in batches tagged with the epoch
 * that ends their grace period.
 *
 * Protocol (see qsbr.h for the contract):
 *   writer: unlink (release) -> defer -> poll: epoch += 1 (seq_cst) = target
 *           of the batch; the batch is freed once every online reader's
 *           `seen` >= target.
 *   reader: quiescent = seen := epoch. Reading the new epoch with acquire
 *           makes every unlink before the bump visible to later loads, and
 *           the release store tells the writer every earlier load is done.
 *   online: seen := epoch, then a full fence, paired with the writer's fence
 *           after the bump (Dekker): either the writer sees the reader online
 *           and waits, or the reader sees the unlink. */
#include "router/qsbr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_CAP 256u

struct gn_qsbr_reader {
    /* 0 = offline or unused; otherwise the last epoch this reader announced.
     * Written by the owning reader (release: its earlier loads are done),
     * read by writers (acquire) when deciding whether a batch can be freed. */
    _Alignas(64) _Atomic uint64_t seen;
    /* Slot allocation flag; CAS by register, store by unregister. Orders
     * nothing else: a free slot has seen == 0. */
    _Atomic uint32_t in_use;
    gn_qsbr *q;
};

typedef struct item {
    gn_qsbr_free_fn fn;
    void *ctx;
    void *ptr;
} item;

typedef struct batch {
    struct batch *next;
    uint64_t target;     /* freeable when all online readers have seen >= target */
    uint32_t n;
    item items[BATCH_CAP];
} batch;

struct gn_qsbr {
    /* Grace-period counter, starts at 1 (0 means offline). Bumped with a
     * seq_cst RMW by writers under `lock` after unlinking (release side for
     * readers' acquire loads in quiescent/online). */
    _Alignas(64) _Atomic uint64_t epoch;
    _Alignas(64) pthread_mutex_t lock;
    unsigned max;
    /* Highest slot index ever used + 1; only grows. Written under `lock`
     * (relaxed: registration itself is ordered by the slot's CAS). */
    _Atomic unsigned hi;
    batch *open;                 /* collecting, no target yet */
    batch *closed_head;          /* FIFO, ascending targets */
    batch *closed_tail;
    batch *spare;                /* one recycled batch to avoid malloc churn */
    uint64_t deferred, freed, leaked, pending;
    gn_qsbr_reader *readers;     /* max slots, each on its own cache line */
};

gn_qsbr *gn_qsbr_create(unsigned max_readers)
{
    if (max_readers == 0 || max_readers > 4096)
        return NULL;
    gn_qsbr *q = aligned_alloc(64, sizeof *q);
    if (!q)
        return NULL;
    memset(q, 0, sizeof *q);
    size_t rbytes = sizeof(gn_qsbr_reader) * max_readers;
    q->readers = aligned_alloc(64, (rbytes + 63) & ~(size_t)63);
    if (!q->readers) {
        free(q);
        return NULL;
    }
    memset(q->readers, 0, rbytes);
    for (unsigned i = 0; i < max_readers; i++) {
        atomic_init(&q->readers[i].seen, 0);
        atomic_init(&q->readers[i].in_use, 0);
        q->readers[i].q = q;
    }
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q->readers);
        free(q);
        return NULL;
    }
    atomic_init(&q->epoch, 1);
    atomic_init(&q->hi, 0);
    q->max = max_readers;
    return q;
}

static void run_batch(gn_qsbr *q, batch *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        b->items[i].fn(b->items[i].ctx, b->items[i].ptr);
    q->freed += b->n;
    q->pending -= b->n;
    b->n = 0;
    b->next = NULL;
    if (!q->spare)
        q->spare = b;
    else
        free(b);
}

void gn_qsbr_destroy(gn_qsbr *q)
{
    if (!q)
        return;
    batch *b = q->closed_head;
    while (b) {
        batch *next = b->next;
        run_batch(q, b);
        b = next;
    }
    if (q->open)
        run_batch(q, q->open);
    free(q->spare);
    pthread_mutex_destroy(&q->lock);
    free(q->readers);
    free(q);
}

gn_qsbr_reader *gn_qsbr_register(gn_qsbr *q)
{
    for (unsigned i = 0; i < q->max; i++) {
        uint32_t expect = 0;
        /* acq_rel: claims the slot; pairs with the release in unregister. */
        if (atomic_compare_exchange_strong_explicit(&q->readers[i].in_use, &expect, 1,
                                                    memory_order_acq_rel, memory_order_relaxed)) {
            pthread_mutex_lock(&q->lock);
            /* relaxed load and store: `hi` is read by writers under `lock`
             * (the mutex orders it). */
            if (atomic_load_explicit(&q->hi, memory_order_relaxed) < i + 1)
                atomic_store_explicit(&q->hi, i + 1, memory_order_relaxed);
            pthread_mutex_unlock(&q->lock);
            gn_qsbr_online(&q->readers[i]);
            return &q->readers[i];
        }
    }
    return NULL;
}

void gn_qsbr_unregister(gn_qsbr_reader *rd)
{
    gn_qsbr_offline(rd);
    /* release: the slot may be claimed by another thread afterwards. */
    atomic_store_explicit(&rd->in_use, 0, memory_order_release);
}

void gn_qsbr_quiescent(gn_qsbr_reader *rd)
{
    /* acquire: pairs with the writer's seq_cst bump, so unlinks made before
     * the bump are visible to this reader's later loads. */
    uint64_t e = atomic_load_explicit(&rd->q->epoch, memory_order_acquire);
    /* release: every shared load this thread made so far happens-before a
     * writer's acquire load that observes this value. */
    atomic_store_explicit(&rd->seen, e, memory_order_release);
}

void gn_qsbr_offline(gn_qsbr_reader *rd)
{
    /* release: earlier loads are done before a writer sees us offline. */
    atomic_store_explicit(&rd->seen, 0, memory_order_release);
}

void gn_qsbr_online(gn_qsbr_reader *rd)
{
    /* acquire: as in quiescent. */
    uint64_t e = atomic_load_explicit(&rd->q->epoch, memory_order_acquire);
    /* relaxed store + seq_cst fence below: the fence pairs with the writer's
     * fence in min_seen (store-load ordering, Dekker). */
    atomic_store_explicit(&rd->seen, e, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
}

/* Smallest epoch announced by an online reader; UINT64_MAX if none. */
static uint64_t min_seen(gn_qsbr *q)
{
    /* Pairs with the fence in gn_qsbr_online: after our bump, either we see
     * the reader's store or the reader sees everything before the bump. */
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t m = UINT64_MAX;
    unsigned hi = atomic_load_explicit(&q->hi, memory_order_relaxed); /* relaxed: under `lock` */
    for (unsigned i = 0; i < hi; i++) {
        /* acquire: pairs with the readers' release stores (their loads done). */
        uint64_t s = atomic_load_explicit(&q->readers[i].seen, memory_order_acquire);
        if (s != 0 && s < m)
            m = s;
    }
    return m;
}

/* Close the open batch: it may be freed once readers reach the new epoch. */
static void close_open(gn_qsbr *q)
{
    batch *b = q->open;
    if (!b || b->n == 0)
        return;
    /* seq_cst RMW: release for the unlinks that preceded the deferrals
     * (readers load epoch with acquire); part of the total order the Dekker
     * pairing with gn_qsbr_online relies on. */
    b->target = atomic_fetch_add_explicit(&q->epoch, 1, memory_order_seq_cst) + 1;
    b->next = NULL;
    if (q->closed_tail)
        q->closed_tail->next = b;
    else
        q->closed_head = b;
    q->closed_tail = b;
    q->open = NULL;
}

static size_t free_ready(gn_qsbr *q)
{
    if (!q->closed_head)
        return 0;
    uint64_t m = min_seen(q);
    size_t n = 0;
    while (q->closed_head && q->closed_head->target <= m) {
        batch *b = q->closed_head;
        q->closed_head = b->next;
        if (!q->closed_head)
            q->closed_tail = NULL;
        n += b->n;
        run_batch(q, b);
    }
    return n;
}

void gn_qsbr_defer(gn_qsbr *q, gn_qsbr_free_fn fn, void *ctx, void *ptr)
{
    if (!ptr)
        return;
    pthread_mutex_lock(&q->lock);
    if (q->open && q->open->n == BATCH_CAP)
        close_open(q);
    if (!q->open) {
        if (q->spare) {
            q->open = q->spare;
            q->spare = NULL;
        } else {
            q->open = malloc(sizeof(batch));
        }
        if (!q->open) {
            q->leaked++;
            pthread_mutex_unlock(&q->lock);
            return;
        }
        q->open->n = 0;
        q->open->next = NULL;
    }
    q->open->items[q->open->n++] = (item){fn, ctx, ptr};
    q->deferred++;
    q->pending++;
    pthread_mutex_unlock(&q->lock);
}

size_t gn_qsbr_poll(gn_qsbr *q)
{
    pthread_mutex_lock(&q->lock);
    close_open(q);
    size_t n = free_ready(q);
    pthread_mutex_unlock(&q->lock);
    return n;
}

void gn_qsbr_synchronize(gn_qsbr *q, gn_qsbr_reader *self)
{
    if (self)
        gn_qsbr_offline(self);
    pthread_mutex_lock(&q->lock);
    close_open(q);
    uint64_t want = q->closed_tail ? q->closed_tail->target : 0;
    pthread_mutex_unlock(&q->lock);
    if (want) {
        for (unsigned spins = 0;; spins++) {
            pthread_mutex_lock(&q->lock);
            free_ready(q);
            bool done = !q->closed_head || q->closed_head->target > want;
            pthread_mutex_unlock(&q->lock);
            if (done)
                break;
            /* A reader that was preempted while online can only report
             * once it runs again: after a short spin, sleep (10 us doubling
             * to 1 ms) so the CPU goes to it rather than to us. */
            if (spins >= 16) {
                unsigned shift = spins - 16 < 7 ? spins - 16 : 7;
                struct timespec ts = {0, 10000L << shift};
                nanosleep(&ts, NULL);
            }
        }
    }
    if (self)
        gn_qsbr_online(self);
}

void gn_qsbr_get_stats(gn_qsbr *q, gn_qsbr_stats *out)
{
    pthread_mutex_lock(&q->lock);
    out->deferred = q->deferred;
    out->freed = q->freed;
    out->pending = q->pending;
    out->leaked = q->leaked;
    out->epoch = atomic_load_explicit(&q->epoch, memory_order_relaxed); /* relaxed: statistics only */
    pthread_mutex_unlock(&q->lock);
}
