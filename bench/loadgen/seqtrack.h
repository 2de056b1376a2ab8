/* bench/loadgen/seqtrack.h — which (group, publisher, sequence) deliveries
 * were seen: one growable bitmap per (group, publisher).
 *
 * A group is one subscriber (every subscriber must see every message) or,
 * in shared mode, the whole $share group (each message once). Each worker
 * thread owns one tracker for the subscribers it runs; the main thread
 * merges them (bitwise OR) after joining the workers, so a message seen by
 * two threads of one group counts once and the difference shows up as a
 * duplicate. */
#ifndef GL_SEQTRACK_H
#define GL_SEQTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "bench/loadgen/status.h"

/* Sequence numbers at or above this are not tracked (a corrupted payload
 * must not make a bitmap grow past 128 MiB). */
#define GL_SEQ_LIMIT (1u << 30)

typedef struct gl_bitmap {
    uint64_t *w;
    uint32_t  nwords;
} gl_bitmap;

typedef struct gl_seqtrack {
    uint32_t   groups, pubs;
    gl_bitmap *maps;           /* groups * pubs, lazily grown */
    uint64_t   received;       /* every accepted delivery */
    uint64_t   unique;         /* deliveries that set a new bit */
} gl_seqtrack;

gl_status gl_seqtrack_init(gl_seqtrack *t, uint32_t groups, uint32_t pubs);
void gl_seqtrack_free(gl_seqtrack *t);

/* Record one delivery. Returns false if it was a duplicate within this tracker.
 * group < groups and pub < pubs are the caller's to check. */
bool gl_seqtrack_add(gl_seqtrack *t, uint32_t group, uint32_t pub, uint32_t seq);

/* dst |= src (same shape); dst->received += src->received; recounts dst->unique. */
gl_status gl_seqtrack_merge(gl_seqtrack *dst, const gl_seqtrack *src);

#endif
