/* bench/loadgen/worker.h — one event-loop thread of gnload and the
 * connections it owns.
 *
 * Threading: a worker thread owns its epoll instance, its connections,
 * their buffers, its histogram and its sequence tracker; nothing of it is
 * touched by another thread while it runs, except the progress atomics
 * (written by the worker, read by the main thread) and the shared phase
 * (written by the main thread, read by the workers). The main thread reads
 * the plain counters only after pthread_join. */
#ifndef GL_WORKER_H
#define GL_WORKER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench/loadgen/hist.h"
#include "bench/loadgen/opts.h"
#include "bench/loadgen/packets.h"
#include "bench/loadgen/seqtrack.h"
#include "bench/loadgen/status.h"

typedef enum gl_phase {
    GL_PHASE_SETUP = 0,   /* connect and subscribe */
    GL_PHASE_RUN,         /* publish (storm: connect/close; idle: hold) */
    GL_PHASE_DRAIN,       /* no new publishes; flush, collect acks and deliveries */
    GL_PHASE_STOP,        /* close everything and return */
} gl_phase;

typedef enum gl_role { GL_ROLE_PUB, GL_ROLE_SUB, GL_ROLE_IDLE, GL_ROLE_STORM } gl_role;

typedef enum gl_cstate {
    GL_CS_FREE = 0,       /* no socket */
    GL_CS_CONNECTING,     /* TCP connect in progress */
    GL_CS_WAIT_CONNACK,
    GL_CS_WAIT_SUBACK,
    GL_CS_READY,
    GL_CS_DEAD,           /* failed or closed; not restarted (storm slots are) */
} gl_cstate;

typedef struct gl_conn {
    int       fd;
    struct ssl_st *ssl;     /* --tls: the connection's SSL (bench/loadgen/tls.c), else NULL */
    struct gl_ws *ws;       /* --ws: WebSocket framing state (bench/loadgen/ws.c), else NULL */
    uint32_t  gen;          /* bumped at each close: stale epoll events are ignored */
    uint8_t   role;         /* gl_role */
    uint8_t   state;        /* gl_cstate */
    bool      want_write;   /* send hit EAGAIN: wait for EPOLLOUT */
    bool      read_again;   /* readable data left after our per-turn read budget */
    uint32_t  index;        /* publisher / subscriber / connection number (run-wide) */
    uint32_t  group;        /* subscribers: sequence-tracking group */
    uint8_t  *in;
    uint32_t  in_cap, in_len;
    uint8_t  *out;
    uint32_t  out_cap, out_head, out_tail;
    uint32_t  out_mark;     /* first byte of the oldest packet not completely sent */
    uint64_t  last_tx_ns;
    uint64_t  t_start_ns;   /* storm: when the attempt began */
    /* publishers */
    gl_pub_tpl tpl;
    uint32_t  seq;          /* next sequence number */
    uint16_t  next_id;
    uint32_t  inflight;
    uint32_t  window;
    uint8_t  *ids;          /* QoS > 0: 65536 states: 0 free, 1 wait PUBACK/PUBREC, 2 wait PUBCOMP */
    double    tokens;
    uint64_t  token_ns;
    uint64_t  quota;        /* messages still allowed by --count */
    /* subscribers */
    uint64_t  got;          /* messages of this run received (a group member's share) */
} gl_conn;

/* Run-wide state shared by the main thread and the workers. */
typedef struct gl_shared {
    const gl_opts     *o;
    struct sockaddr_in addr;
    uint32_t           groups;       /* sequence-tracking groups */
    const struct gl_idents *idents;  /* storm identities (read-only while workers run) */
    /* Written by main with release, read by workers with acquire: orders
     * everything main set up before a phase change (none today beyond the
     * phase itself, but the pairing keeps it safe to add). */
    _Atomic int        phase;
} gl_shared;

typedef struct gl_worker {
    gl_shared     *sh;
    const gl_opts *o;
    uint32_t       index;
    pthread_t      thread;
    int            ep;
    gl_conn       *conns;
    uint32_t       nconns;
    uint32_t       npub;             /* conns[0..npub) are the publishers */
    bool           any_again;        /* some connection has read_again set */
    bool           pub_hungry;       /* a publisher could send more right away */
    uint64_t       pace_ns;          /* --pace-spin: when the publishers were last pumped */
    uint32_t       next_start;       /* setup: next connection to open */
    uint32_t       connecting;       /* setup: handshakes in progress */
    gl_ctl_tpls    ctl;
    gl_hist        lat;              /* delivery latency (storm: connect latency) */
    gl_seqtrack    seq;
    uint64_t       storm_seq;        /* storm: client id counter */

    /* Results, read by main after join. */
    uint64_t       sent, acked, rejected, foreign, received_raw;
    uint64_t       connects, connect_failures, disconnects, protocol_errors;
    uint32_t       ready_conns, failed_conns;
    gl_status      fatal;
    char           fatal_msg[160];

    /* Progress, written by this worker (relaxed: a monotonic snapshot, no
     * other data is published through them), read by main while running. */
    _Atomic uint64_t p_sent;
    _Atomic uint64_t p_unique;
    _Atomic uint64_t p_busy;         /* in-flight ids + publish bytes not yet sent */
    _Atomic uint32_t p_ready;        /* connections through setup */
    _Atomic uint32_t p_failed;       /* connections that failed during setup */
    _Atomic uint64_t p_connects;     /* storm */
    _Atomic int      p_fatal;        /* nonzero once fatal is set */
    _Atomic int      p_phase;        /* phase of the last completed turn; release after the progress stores */
} gl_worker;

/* Prepare worker w (main thread, before start): assigns its connections. */
gl_status gl_worker_init(gl_worker *w, gl_shared *sh, uint32_t index, uint32_t nthreads);
/* Thread entry; arg is the gl_worker. */
void *gl_worker_main(void *arg);
/* Release everything (main thread, after join). */
void gl_worker_free(gl_worker *w);

#endif
