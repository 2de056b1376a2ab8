/* router/qsbr.h — quiescent-state-based reclamation (QSBR) for the router's
 * lock-free structures. Nothing else: no data structure lives here.
 *
 * Contract
 * - Readers are threads that dereference shared pointers without a lock.
 *   Each registers once (gn_qsbr_register) and then is "online": every
 *   pointer it loaded stays valid until the thread calls gn_qsbr_quiescent,
 *   gn_qsbr_offline or gn_qsbr_unregister. A reader must report a quiescent
 *   state regularly (a shard does it once per event-loop iteration) or go
 *   offline before it blocks; a reader that stays online without reporting
 *   holds back reclamation (memory grows, nothing breaks).
 * - Writers unlink an object first (store-release of the new pointer), then
 *   hand it to gn_qsbr_defer. The object's free function runs only after
 *   every reader that was online at the time has passed a quiescent state.
 *   Free functions run in whichever thread calls gn_qsbr_poll /
 *   gn_qsbr_synchronize / gn_qsbr_destroy; they must not call back into
 *   this gn_qsbr.
 * - gn_qsbr_poll never blocks (safe from a reader thread, e.g. a shard that
 *   also subscribes). gn_qsbr_synchronize waits for a grace period and must
 *   not be called by an online reader (it would wait for itself): the
 *   calling thread, if registered, is taken offline for the wait.
 * - defer/poll/synchronize may be called from any thread (an internal mutex
 *   serialises them). quiescent/offline/online are called only by the
 *   reader thread that owns the handle.
 * - If recording a deferred free fails for lack of memory the object is
 *   leaked (counted in gn_qsbr_stats.leaked) rather than freed early. */
#ifndef GN_ROUTER_QSBR_H
#define GN_ROUTER_QSBR_H

#include <stddef.h>
#include <stdint.h>

typedef struct gn_qsbr gn_qsbr;
typedef struct gn_qsbr_reader gn_qsbr_reader;

/* Called after the grace period: free `ptr` (ctx is what was given to defer). */
typedef void (*gn_qsbr_free_fn)(void *ctx, void *ptr);

typedef struct gn_qsbr_stats {
    uint64_t deferred;   /* objects handed to gn_qsbr_defer */
    uint64_t freed;      /* free functions run */
    uint64_t pending;    /* deferred and not yet freed */
    uint64_t leaked;     /* deferral could not be recorded (out of memory) */
    uint64_t epoch;      /* current grace-period counter */
} gn_qsbr_stats;

/* Create a domain for at most max_readers registered readers (1..4096).
 * NULL on allocation failure or a bad count. */
gn_qsbr *gn_qsbr_create(unsigned max_readers);
/* Run every pending free function, then free the domain. No reader may be
 * online and no other thread may use the domain any more. */
void gn_qsbr_destroy(gn_qsbr *q);

/* Register the calling thread as a reader; it starts online.
 * NULL when max_readers are already registered. */
gn_qsbr_reader *gn_qsbr_register(gn_qsbr *q);
/* Stop being a reader (implies offline); the handle is invalid afterwards. */
void gn_qsbr_unregister(gn_qsbr_reader *rd);

/* Reader: "I hold no pointer into shared structures now". Cheap: one
 * load and one store, no fence on x86. */
void gn_qsbr_quiescent(gn_qsbr_reader *rd);
/* Reader: extended quiescent state (before blocking in epoll/io_uring wait). */
void gn_qsbr_offline(gn_qsbr_reader *rd);
/* Reader: leave the extended quiescent state; pointers may be loaded again. */
void gn_qsbr_online(gn_qsbr_reader *rd);

/* Writer: `ptr` is unlinked; call fn(ctx, ptr) after a grace period. */
void gn_qsbr_defer(gn_qsbr *q, gn_qsbr_free_fn fn, void *ctx, void *ptr);
/* Start a grace period for everything deferred so far and run the free
 * functions whose grace period is over. Never blocks on readers.
 * Returns the number of objects freed. */
size_t gn_qsbr_poll(gn_qsbr *q);
/* Wait until every object deferred before the call can be freed, and free
 * them. `self` is the calling thread's own reader handle or NULL: it is
 * taken offline for the wait and put back online afterwards. */
void gn_qsbr_synchronize(gn_qsbr *q, gn_qsbr_reader *self);

void gn_qsbr_get_stats(gn_qsbr *q, gn_qsbr_stats *out);

#endif
