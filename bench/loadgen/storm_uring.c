/* bench/loadgen/storm_uring.c — io_uring connection storm: linked
 * socket/setsockopt/connect/send/recv/close chains on fixed-file slots,
 * or (--storm-io reuse) connect/send/recv/disconnect chains that keep each
 * slot's socket from one attempt to the next. */
#include "bench/loadgen/storm_uring.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bench/loadgen/ident.h"
#include "bench/loadgen/procstat.h"

/* Socket commands of IORING_OP_URING_CMD (kernel 6.7; Debian 12's headers
 * and liburing 2.3 predate them). */
#ifndef SOCKET_URING_OP_SETSOCKOPT
#define SOCKET_URING_OP_SETSOCKOPT 3
#endif

enum { OP_SOCKET = 1, OP_LINGER, OP_CONNECT, OP_SEND, OP_RECV, OP_CLOSE, OP_DISCONNECT };

typedef struct slot {
    uint64_t t_start_ns;
    uint32_t out_len;
    bool     busy;          /* a chain is in flight (until its close / disconnect completes) */
    bool     open;          /* reuse: the slot holds a disconnected socket for the next attempt */
    bool     failed;        /* a step of the current chain failed: close the socket after it */
    uint8_t  out[1024];     /* the CONNECT of the current attempt */
    uint8_t  in[64];        /* the CONNACK */
} slot;

typedef struct storm {
    gl_worker     *w;
    struct io_uring ring;
    slot          *slots;
    uint32_t       n;
    uint32_t       busy;
    int            refused_code;  /* return code of the first refusing CONNACK, -1: none */
    bool           reuse;         /* --storm-io reuse */
    int            first_errno;   /* the first failure, for the report */
    const char    *first_errop;
} storm;

static const struct linger rst_linger = { .l_onoff = 1, .l_linger = 0 };
/* connect(AF_UNSPEC) on a connected TCP socket is tcp_disconnect: an RST
 * (no TIME_WAIT), the ephemeral port released, the socket CLOSED and ready
 * to connect again. */
static const struct sockaddr unspec_addr = { .sa_family = AF_UNSPEC };

static uint64_t udata(uint32_t i, int op)
{
    return ((uint64_t)i << 8) | (uint64_t)op;
}

static struct io_uring_sqe *sqe_get(storm *st)
{
    struct io_uring_sqe *e = io_uring_get_sqe(&st->ring);
    if (!e) {
        io_uring_submit(&st->ring);
        e = io_uring_get_sqe(&st->ring);
    }
    return e;
}

/* Queue the linked operations of one attempt in slot i: socket → SO_LINGER
 * 0 → connect → send → recv → close, or with reuse (socket only when the
 * slot has none) → connect → send → recv → disconnect. Hard links: every
 * step runs even if an earlier one failed, so the close / disconnect always
 * comes and frees the slot; only the recv's completion decides success. */
static bool begin(storm *st, uint32_t i, uint64_t now)
{
    gl_worker *w = st->w;
    slot *s = &st->slots[i];
    size_t len;
    uint64_t attempt = w->storm_seq++ * w->o->threads + w->index;
    if (gl_ident_connect(w->o, w->sh->idents, attempt, w->index, s->out, sizeof s->out, &len) != GL_OK) {
        w->fatal = GL_ERR_USAGE;
        snprintf(w->fatal_msg, sizeof w->fatal_msg, "cannot encode the CONNECT of attempt %llu",
                 (unsigned long long)attempt);
        atomic_store_explicit(&w->p_fatal, 1, memory_order_relaxed);
        return false;
    }
    if (io_uring_sq_space_left(&st->ring) < 6)
        io_uring_submit(&st->ring);   /* a chain must not be split over two submits */
    s->out_len = (uint32_t)len;
    s->t_start_ns = now;
    s->busy = true;
    s->failed = false;
    st->busy++;

    struct io_uring_sqe *e;
    const unsigned link = IOSQE_IO_HARDLINK, skip = IOSQE_CQE_SKIP_SUCCESS;
    if (!s->open) {
        e = sqe_get(st);
        io_uring_prep_socket_direct(e, AF_INET, SOCK_STREAM, 0, i, 0);
        e->flags |= link | skip;
        e->user_data = udata(i, OP_SOCKET);
    }
    if (!st->reuse) {
        e = sqe_get(st);
        io_uring_prep_rw(IORING_OP_URING_CMD, e, (int)i, NULL, 0, 0);
        e->cmd_op = SOCKET_URING_OP_SETSOCKOPT;
        e->addr = (uint64_t)SOL_SOCKET | ((uint64_t)SO_LINGER << 32);   /* level, optname */
        e->splice_fd_in = (int32_t)sizeof rst_linger;                   /* optlen */
        e->addr3 = (uint64_t)(uintptr_t)&rst_linger;                    /* optval */
        e->flags |= IOSQE_FIXED_FILE | link | skip;
        e->user_data = udata(i, OP_LINGER);
    }

    e = sqe_get(st);
    io_uring_prep_connect(e, (int)i, (const struct sockaddr *)&w->sh->addr, sizeof w->sh->addr);
    e->flags |= IOSQE_FIXED_FILE | link | skip;
    e->user_data = udata(i, OP_CONNECT);

    e = sqe_get(st);
    io_uring_prep_send(e, (int)i, s->out, s->out_len, MSG_NOSIGNAL);
    e->flags |= IOSQE_FIXED_FILE | link | skip;
    e->user_data = udata(i, OP_SEND);

    e = sqe_get(st);
    io_uring_prep_recv(e, (int)i, s->in, sizeof s->in, 0);
    e->flags |= IOSQE_FIXED_FILE | link;
    e->user_data = udata(i, OP_RECV);

    e = sqe_get(st);
    if (st->reuse) {
        io_uring_prep_connect(e, (int)i, &unspec_addr, sizeof unspec_addr);
        e->flags |= IOSQE_FIXED_FILE;
        e->user_data = udata(i, OP_DISCONNECT);
    } else {
        io_uring_prep_close_direct(e, i);
        e->user_data = udata(i, OP_CLOSE);
    }
    return true;
}

/* Reuse: the socket of slot i after a failed chain or at the end goes. */
static void close_slot(storm *st, uint32_t i)
{
    st->slots[i].open = false;
    struct io_uring_sqe *e = sqe_get(st);
    io_uring_prep_close_direct(e, i);
    e->user_data = udata(i, OP_CLOSE);
}

/* A whole CONNACK with reason / return code 0 (3.1.1: 4 bytes; MQTT 5:
 * properties may follow, remaining length below 128 here). */
static bool connack_ok(const uint8_t *b, int len)
{
    return len >= 4 && b[0] == 0x20 && b[1] < 0x80 && len == b[1] + 2 && b[3] == 0;
}

static void note_error(storm *st, int op, int res)
{
    static const char *const names[] = { "", "socket", "setsockopt", "connect", "send", "recv", "close",
                                         "disconnect" };
    if (st->first_errno == 0) {
        st->first_errno = res < 0 ? -res : EPROTO;
        st->first_errop = names[op];
    }
}

static void complete(storm *st, struct io_uring_cqe *cqe, uint64_t now, int phase)
{
    gl_worker *w = st->w;
    uint32_t i = (uint32_t)(cqe->user_data >> 8);
    int op = (int)(cqe->user_data & 0xff);
    if (i >= st->n)
        return;
    slot *s = &st->slots[i];
    switch (op) {
    case OP_RECV:
        if (connack_ok(s->in, cqe->res)) {
            w->connects++;
            gl_hist_record(&w->lat, now - s->t_start_ns);
        } else {
            w->connect_failures++;
            if (cqe->res >= 4 && s->in[0] == 0x20 && st->refused_code < 0)
                st->refused_code = s->in[3];
            note_error(st, op, cqe->res);
            s->failed = true;
        }
        break;
    case OP_DISCONNECT:
        /* A clean disconnect keeps the socket for the next attempt; after
         * a failure, or when the run is over, it is closed (then OP_CLOSE
         * ends the chain). */
        if (cqe->res < 0) {
            note_error(st, op, cqe->res);
            s->failed = true;
        }
        if (s->failed || phase != GL_PHASE_RUN) {
            close_slot(st, i);
            break;
        }
        s->open = true;
        s->busy = false;
        st->busy--;
        begin(st, i, now);
        break;
    case OP_CLOSE:
        if (cqe->res < 0)
            note_error(st, op, cqe->res);
        s->busy = false;
        st->busy--;
        if (phase == GL_PHASE_RUN)
            begin(st, i, now);
        break;
    case OP_LINGER:
        /* Without SO_LINGER 0 the close leaves TIME_WAIT behind and the
         * scenario is not the one measured: stop with a clear message. */
        if (w->fatal == GL_OK) {
            w->fatal = GL_ERR_SYS;
            snprintf(w->fatal_msg, sizeof w->fatal_msg,
                     "storm io_uring: setsockopt(SO_LINGER) command failed: %s "
                     "(kernel before 6.7? use --storm-io epoll)", strerror(-cqe->res));
            atomic_store_explicit(&w->p_fatal, 1, memory_order_relaxed);
        }
        break;
    default:                          /* only failures post (CQE_SKIP_SUCCESS) */
        note_error(st, op, cqe->res);
        s->failed = true;
        break;
    }
}

static void fail_setup(gl_worker *w, const char *what, int err)
{
    w->fatal = GL_ERR_SYS;
    snprintf(w->fatal_msg, sizeof w->fatal_msg, "storm io_uring: %s: %s", what, strerror(err));
    atomic_store_explicit(&w->p_fatal, 1, memory_order_relaxed);
}

static void publish(gl_worker *w, int phase)
{
    atomic_store_explicit(&w->p_connects, w->connects, memory_order_relaxed);
    /* release: the progress stores above are visible to whoever sees this phase */
    atomic_store_explicit(&w->p_phase, phase, memory_order_release);
}

void gl_storm_uring_run(gl_worker *w)
{
    storm st = { .w = w, .n = w->nconns, .refused_code = -1, .reuse = w->o->storm_reuse };
    st.slots = calloc(st.n, sizeof *st.slots);
    if (!st.slots) {
        fail_setup(w, "slots", ENOMEM);
        return;
    }
    /* Six SQEs per attempt, every slot restarted within one turn. */
    unsigned entries = 64;
    while (entries < st.n * 6u && entries < 32768u)
        entries *= 2;
    struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
                                          IORING_SETUP_SUBMIT_ALL, .cq_entries = entries * 2 };
    p.flags |= IORING_SETUP_CQSIZE;
    int r = io_uring_queue_init_params(entries, &st.ring, &p);
    if (r == -EINVAL) {
        p = (struct io_uring_params){0};
        r = io_uring_queue_init_params(entries, &st.ring, &p);
    }
    if (r < 0) {
        fail_setup(w, "io_uring_queue_init", -r);
        free(st.slots);
        return;
    }
    if ((r = io_uring_register_files_sparse(&st.ring, st.n)) < 0) {
        fail_setup(w, "register_files_sparse", -r);
        goto out;
    }

    int phase;
    while ((phase = atomic_load_explicit(&w->sh->phase, memory_order_acquire)) == GL_PHASE_SETUP) {
        publish(w, phase);
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    uint64_t now = gl_now_ns();
    if (phase == GL_PHASE_RUN)
        for (uint32_t i = 0; i < st.n; i++)
            if (!begin(&st, i, now))
                break;
    uint64_t stop_deadline = 0;
    while (st.busy > 0) {
        struct __kernel_timespec to = { .tv_sec = 0, .tv_nsec = 10000000 };
        struct io_uring_cqe *cqe;
        r = io_uring_submit_and_wait_timeout(&st.ring, &cqe, 1, &to, NULL);
        if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY) {
            fail_setup(w, "submit_and_wait", -r);
            break;
        }
        phase = atomic_load_explicit(&w->sh->phase, memory_order_acquire);
        if (phase == GL_PHASE_STOP && stop_deadline == 0)
            stop_deadline = gl_now_ns() + 2000000000u;   /* chains in flight end with their close */
        if (w->fatal != GL_OK)
            phase = GL_PHASE_STOP;
        now = gl_now_ns();
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&st.ring, head, cqe) {
            complete(&st, cqe, now, phase);
            seen++;
        }
        io_uring_cq_advance(&st.ring, seen);
        publish(w, phase == GL_PHASE_STOP ? GL_PHASE_DRAIN : phase);
        if (stop_deadline && gl_now_ns() > stop_deadline)
            break;
    }
    while (atomic_load_explicit(&w->sh->phase, memory_order_acquire) != GL_PHASE_STOP) {
        publish(w, GL_PHASE_DRAIN);
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    publish(w, GL_PHASE_STOP);
    if (st.refused_code >= 0 && w->connects == 0 && w->fatal == GL_OK) {
        w->fatal = GL_ERR_REFUSED;
        snprintf(w->fatal_msg, sizeof w->fatal_msg, "storm: every CONNECT refused (CONNACK code %d)",
                 st.refused_code);
        atomic_store_explicit(&w->p_fatal, 1, memory_order_relaxed);
    } else if (st.first_errno && w->connects == 0 && w->fatal == GL_OK) {
        w->fatal = GL_ERR_SYS;
        snprintf(w->fatal_msg, sizeof w->fatal_msg, "storm: no attempt succeeded; first error: %s: %s",
                 st.first_errop, strerror(st.first_errno));
        atomic_store_explicit(&w->p_fatal, 1, memory_order_relaxed);
    }
out:
    io_uring_queue_exit(&st.ring);
    free(st.slots);
}
