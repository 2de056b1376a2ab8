/* engine/uring.h — private state of the io_uring transport backend
 * (engine/uring_setup.c sets it up, engine/uring_io.c runs it).
 *
 * One instance per shard, used only by that shard's thread, except
 * ctl_efd, which the controlling thread writes to wake the shard. */
#ifndef GN_ENGINE_URING_H
#define GN_ENGINE_URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "engine/transport.h"

/* Operation tags in the low 3 bits of a CQE's user_data; the rest is the
 * gn_conn pointer (slab objects are at least 8-byte aligned) or 0. */
enum {
    GN_OP_ACCEPT = 1,
    GN_OP_RECV   = 2,
    GN_OP_SEND   = 3,
    GN_OP_WAKE   = 4,   /* IORING_OP_MSG_RING from another shard */
    GN_OP_CTL    = 5,   /* eventfd poll: the controller wants attention */
    GN_OP_IGNORE = 6,   /* cancel and msg_ring completions on the sender */
};
#define GN_OP_MASK 7u

#define GN_SEND_IOV 256 /* iovecs per sendmsg (large payloads are one each); the rest goes next turn */

typedef struct gn_send_ctx {
    struct gn_send_ctx *next;   /* free list */
    struct gn_send_ctx *all_next; /* every context ever allocated (freed at destroy,
                                     after the ring is gone: a send may still be
                                     in flight when a shard stops) */
    struct msghdr       mh;
    struct iovec        iov[GN_SEND_IOV];
} gn_send_ctx;

typedef struct gn_uring {
    struct io_uring ring;
    gn_shard  *shard;
    unsigned   setup_flags;     /* the flags the kernel accepted */
    uint32_t   sqpoll_idle_ms;  /* SQPOLL in use with this idle time (0: not in use) */
    unsigned   features;        /* params.features */
    int        listen_fd;
    int        kind_fd[GN_LK_COUNT]; /* the other listeners by kind (-1: off; [GN_LK_MQTT] unused) */
    uint16_t   port;            /* bound port */
    int        ctl_efd;         /* eventfd written by the controlling thread */
    uint64_t   ctl_buf;
    bool       accepting;
    bool       started;

    /* provided-buffer ring, group 0 */
    struct io_uring_buf_ring *br;
    size_t     br_len;          /* mmap length of br */
    uint8_t   *bufs;            /* buf_count * buf_size bytes */
    size_t     bufs_len;
    uint32_t   buf_size, buf_count, buf_mask;
    uint32_t   bufs_active;     /* buffers put in circulation so far (grows on ENOBUFS) */
    uint32_t   bufs_returned;   /* added since the last advance */

    gn_send_ctx *free_send;
    gn_send_ctx *all_send;
    uint64_t   enobufs;         /* receives ended by buffer exhaustion */
    char       feat[160];
} gn_uring;

/* Put more buffers in circulation (after ENOBUFS), up to buf_count. */
void gn_uring_bufs_grow(gn_uring *u);
/* Return receive buffer bid to the ring (made visible by gn_uring_bufs_commit). */
void gn_uring_buf_return(gn_uring *u, uint16_t bid);
void gn_uring_bufs_commit(gn_uring *u);
/* An SQE, submitting first when the queue is full. Never NULL. */
struct io_uring_sqe *gn_uring_sqe(gn_uring *u);

void *gn_uring_create(gn_shard *s, const gn_tp_params *p, char *err, size_t errlen);
const char *gn_uring_features(void *tp);
uint16_t gn_uring_bound_port(void *tp);
void gn_uring_destroy(void *tp);

#endif
