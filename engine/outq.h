/* engine/outq.h — a connection's outbound byte queue.
 *
 * Encoded packet bytes are copied into fixed 2 KiB chunks taken from the
 * shard's chunk pool; large payloads are not copied but referenced from
 * their refcounted message (gn_msg), whose reference the queue holds until
 * the bytes are written. The transport turns the queue into an iovec array
 * (one writev/sendmsg per turn) and reports how many bytes went out;
 * short writes simply leave the rest queued.
 *
 * Threading: owned by one connection on one shard; never shared. An empty
 * queue holds no memory. */
#ifndef GN_ENGINE_OUTQ_H
#define GN_ENGINE_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "engine/msg.h"

#define GN_OUTQ_CHUNK 2048u

typedef struct gn_ochunk {
    struct gn_ochunk *next;     /* free list link when pooled */
    uint32_t used;              /* bytes written into data */
    uint32_t refs;              /* queue items pointing into this chunk + 1 while it is the tail */
    uint8_t  data[GN_OUTQ_CHUNK - 16];
} gn_ochunk;

/* Per-shard pool of chunks (single-threaded). */
typedef struct gn_opool {
    gn_ochunk *free;
    size_t     nfree;
    size_t     max_free;        /* chunks kept for reuse, the rest go back to malloc */
} gn_opool;

typedef struct gn_oitem {
    const uint8_t *base;
    uint32_t       len;
    gn_ochunk     *chunk;       /* non-NULL: bytes live in this chunk */
    gn_msg        *msg;         /* non-NULL: a message reference released when sent */
} gn_oitem;

typedef struct gn_outq {
    gn_oitem  *items;           /* ring, capacity a power of two; NULL when empty */
    uint32_t   head, count, cap;
    uint32_t   head_off;        /* bytes of items[head] already written */
    gn_ochunk *tail;            /* chunk accepting copies, NULL when none */
    size_t     bytes;           /* bytes queued and not yet written */
} gn_outq;

void gn_opool_init(gn_opool *p, size_t max_free);
void gn_opool_drain(gn_opool *p);

/* Copy len bytes to the end of the queue. Returns -1 on allocation failure. */
int  gn_outq_put(gn_outq *q, gn_opool *p, const void *data, size_t len);
/* Reserve len (<= GN_OUTQ_CHUNK - 16) contiguous bytes at the end of the
 * queue for the caller to fill now; NULL on allocation failure. */
uint8_t *gn_outq_reserve(gn_outq *q, gn_opool *p, size_t len);
/* Queue len bytes at data that live inside msg; takes a reference on msg. */
int  gn_outq_put_ref(gn_outq *q, gn_opool *p, gn_msg *msg, const void *data, size_t len);
/* Fill up to max iovecs with the bytes to write next; returns the count. */
size_t gn_outq_iov(const gn_outq *q, struct iovec *iov, size_t max);
/* n bytes were written: drop them, releasing chunks and message refs. */
void gn_outq_consume(gn_outq *q, gn_opool *p, size_t n);
/* Drop everything (connection closing). */
void gn_outq_clear(gn_outq *q, gn_opool *p);

static inline bool gn_outq_empty(const gn_outq *q) { return q->count == 0; }

#endif
