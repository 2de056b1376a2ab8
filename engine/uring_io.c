/* engine/uring_io.c — the io_uring backend at run time: multishot accept,
 * multishot receive into the provided-buffer ring, one send (sendmsg for
 * several pieces) per connection per turn, closes through the ring,
 * cross-shard wake-ups with IORING_OP_MSG_RING, and the completion
 * dispatch loop.
 *
 * A receive CQE's buffer is handed to the engine (gn_conn_on_bytes) and
 * returned to the ring right after: anything that must outlive it is copied
 * by the engine (carry buffer, message object). A multishot receive that
 * ends without IORING_CQE_F_MORE is re-armed unless the connection is
 * stopping; one ended by ENOBUFS is re-armed on the next turn, when the
 * buffers of this turn are back in the ring. */
#include "engine/uring.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/conn.h"
#include "engine/shard.h"

static inline uint64_t tag(const void *p, unsigned op)
{
    return (uint64_t)(uintptr_t)p | op;
}

struct io_uring_sqe *gn_uring_sqe(gn_uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    while (!sqe) {
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

void gn_uring_buf_return(gn_uring *u, uint16_t bid)
{
    io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * u->buf_size, u->buf_size,
                          bid, (int)u->buf_mask, (int)u->bufs_returned);
    u->bufs_returned++;
}

void gn_uring_bufs_commit(gn_uring *u)
{
    if (u->bufs_returned) {
        io_uring_buf_ring_advance(u->br, (int)u->bufs_returned);
        u->bufs_returned = 0;
    }
}

/* An accept's user_data carries the listener kind above the op tag. */
static inline uint64_t accept_tag(int kind)
{
    return ((uint64_t)kind << 3) | GN_OP_ACCEPT;
}

static void arm_accept(gn_uring *u, int kind)
{
    struct io_uring_sqe *sqe = gn_uring_sqe(u);
    io_uring_prep_multishot_accept(sqe, kind ? u->kind_fd[kind] : u->listen_fd, NULL, NULL,
                                   SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, accept_tag(kind));
}

static void arm_accepts(gn_uring *u)
{
    for (int k = 0; k < GN_LK_COUNT; k++)
        if (k == GN_LK_MQTT || u->kind_fd[k] >= 0)
            arm_accept(u, k);
}

static void arm_ctl(gn_uring *u)
{
    struct io_uring_sqe *sqe = gn_uring_sqe(u);
    io_uring_prep_read(sqe, u->ctl_efd, &u->ctl_buf, sizeof u->ctl_buf, 0);
    io_uring_sqe_set_data64(sqe, tag(NULL, GN_OP_CTL));
}

static int u_start(void *tp)
{
    gn_uring *u = tp;
    if (u->setup_flags & IORING_SETUP_R_DISABLED) {
        /* Debian's liburing 2.3 declares io_uring_enable_rings but does not
         * export it: register directly. This thread becomes the issuer. */
        long rc = syscall(__NR_io_uring_register, u->ring.ring_fd,
                          IORING_REGISTER_ENABLE_RINGS, NULL, 0);
        if (rc < 0)
            return -errno;
    }
    u->started = true;
    u->accepting = true;
    arm_accepts(u);
    arm_ctl(u);
    io_uring_submit(&u->ring);
    return 0;
}

static void u_stop_accept(void *tp)
{
    gn_uring *u = tp;
    if (!u->accepting)
        return;
    u->accepting = false;
    for (int k = 0; k < GN_LK_COUNT; k++) {
        if (k != GN_LK_MQTT && u->kind_fd[k] < 0)
            continue;
        struct io_uring_sqe *sqe = gn_uring_sqe(u);
        io_uring_prep_cancel64(sqe, accept_tag(k), 0);
        io_uring_sqe_set_data64(sqe, tag(NULL, GN_OP_IGNORE));
    }
}

static void arm_recv(gn_uring *u, gn_conn *c)
{
    struct io_uring_sqe *sqe = gn_uring_sqe(u);
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
    io_uring_sqe_set_data64(sqe, tag(c, GN_OP_RECV));
    c->io |= GN_IO_RECV_ARMED;
    c->io &= (uint8_t)~GN_IO_CANCELLED;
}

static void u_recv_start(void *tp, gn_conn *c)
{
    c->io &= (uint8_t)~GN_IO_STOP_RECV;
    if (!(c->io & (GN_IO_RECV_ARMED | GN_IO_CLOSING)))
        arm_recv(tp, c);
}

static void maybe_release(gn_uring *u, gn_conn *c);

static void u_recv_stop(void *tp, gn_conn *c)
{
    gn_uring *u = tp;
    c->io |= GN_IO_STOP_RECV;
    if (!(c->io & GN_IO_RECV_ARMED)) {
        c->io &= (uint8_t)~GN_IO_STOP_RECV;
        gn_conn_on_recv_stopped(c);
        return;
    }
    if (!(c->io & GN_IO_CANCELLED)) {
        c->io |= GN_IO_CANCELLED;
        struct io_uring_sqe *sqe = gn_uring_sqe(u);
        io_uring_prep_cancel64(sqe, tag(c, GN_OP_RECV), 0);
        io_uring_sqe_set_data64(sqe, tag(NULL, GN_OP_IGNORE));
        /* Now, not at the next turn: completions already queued still
         * arrive, but the socket stops feeding this connection's carry. */
        io_uring_submit(&u->ring);
    }
}

static gn_send_ctx *send_ctx_get(gn_uring *u)
{
    gn_send_ctx *sc = u->free_send;
    if (sc) {
        u->free_send = sc->next;
        return sc;
    }
    sc = malloc(sizeof *sc);
    if (sc) {
        sc->all_next = u->all_send;
        u->all_send = sc;
    }
    return sc;
}

static void send_ctx_put(gn_uring *u, gn_send_ctx *sc)
{
    sc->next = u->free_send;
    u->free_send = sc;
}

static void u_flush(void *tp, gn_conn *c)
{
    gn_uring *u = tp;
    if ((c->io & (GN_IO_SEND_BUSY | GN_IO_CLOSED)) || c->lost)
        return;
    gn_outq *q = gn_conn_wire(c);
    if (gn_outq_empty(q))
        return;
    gn_send_ctx *sc = send_ctx_get(u);
    if (!sc) {
        gn_conn_fail(c);
        return;
    }
    memset(&sc->mh, 0, sizeof sc->mh);
    sc->mh.msg_iov = sc->iov;
    sc->mh.msg_iovlen = gn_outq_iov(q, sc->iov, GN_SEND_IOV);
    c->send_ctx = sc;
    c->io |= GN_IO_SEND_BUSY;
    struct io_uring_sqe *sqe = gn_uring_sqe(u);
    if (sc->mh.msg_iovlen == 1)     /* a CONNACK, an ack: no msghdr to copy in */
        io_uring_prep_send(sqe, c->fd, sc->iov[0].iov_base, sc->iov[0].iov_len, MSG_NOSIGNAL);
    else
        io_uring_prep_sendmsg(sqe, c->fd, &sc->mh, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag(c, GN_OP_SEND));
}

static void u_close(void *tp, gn_conn *c)
{
    gn_uring *u = tp;
    if (c->io & GN_IO_CLOSING)
        return;
    c->io |= GN_IO_CLOSING;
    if (c->io & GN_IO_RECV_ARMED)
        u_recv_stop(u, c);
    maybe_release(u, c);
}

/* Close the fd and release c once nothing is in flight and (unless the
 * peer is gone) everything queued was written. */
static void maybe_release(gn_uring *u, gn_conn *c)
{
    if (!(c->io & GN_IO_CLOSING) || (c->io & (GN_IO_RECV_ARMED | GN_IO_SEND_BUSY | GN_IO_CLOSED)))
        return;
    if (!c->lost && gn_conn_has_output(c)) {
        u_flush(u, c);
        if (c->io & GN_IO_SEND_BUSY)
            return;
    }
    c->io |= GN_IO_CLOSED;
    if (c->fd >= 0) {
        /* Nothing of c is in flight any more: the close goes with the next
         * submit instead of a close(2) of its own. */
        struct io_uring_sqe *sqe = gn_uring_sqe(u);
        io_uring_prep_close(sqe, c->fd);
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        io_uring_sqe_set_data64(sqe, tag(NULL, GN_OP_IGNORE));
        c->fd = -1;
    }
    gn_conn_on_released(c);
}

static void u_wake(void *tp, gn_shard *to)
{
    gn_uring *u = tp;
    gn_uring *t = gn_shard_transport(to);
    struct io_uring_sqe *sqe = gn_uring_sqe(u);
    io_uring_prep_msg_ring(sqe, t->ring.ring_fd, 0, tag(NULL, GN_OP_WAKE), 0);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(sqe, tag(NULL, GN_OP_IGNORE));
}

static void u_ctl_wake(void *tp)
{
    gn_uring *u = tp;
    uint64_t one = 1;
    ssize_t r = write(u->ctl_efd, &one, sizeof one);
    (void)r;    /* EAGAIN means a wake is already pending */
}

static void on_accept(gn_uring *u, struct io_uring_cqe *cqe, int kind)
{
    if (!(cqe->flags & IORING_CQE_F_MORE) && u->accepting)
        arm_accept(u, kind);
    if (cqe->res < 0)
        return;     /* EMFILE and friends: the re-armed accept tries again */
    gn_shard_on_accept(u->shard, cqe->res, (gn_listen_kind)kind);   /* TCP_NODELAY comes from the listener */
}

static void on_recv(gn_uring *u, gn_conn *c, struct io_uring_cqe *cqe)
{
    bool more = cqe->flags & IORING_CQE_F_MORE;
    if (cqe->res > 0) {
        uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        if (!(c->io & GN_IO_CLOSING) && !c->lost)
            gn_conn_on_bytes(c, u->bufs + (size_t)bid * u->buf_size, (size_t)cqe->res);
        gn_uring_buf_return(u, bid);
    }
    if (more)
        return;
    c->io &= (uint8_t)~(GN_IO_RECV_ARMED | GN_IO_CANCELLED);
    if (cqe->res == 0 || (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)) {
        if (!c->lost && !(c->io & GN_IO_CLOSING))
            gn_conn_on_lost(c, cqe->res == 0 ? 0 : -cqe->res);
        c->lost = true;
    }
    if (c->io & GN_IO_CLOSING) {
        maybe_release(u, c);
        return;
    }
    if (c->io & GN_IO_STOP_RECV) {
        c->io &= (uint8_t)~GN_IO_STOP_RECV;
        gn_conn_on_recv_stopped(c);
        return;
    }
    if (c->lost)
        return;
    if (cqe->res == -ENOBUFS) {
        u->enobufs++;
        /* Grow only for connections streaming data: a connection storm
         * (many CONNECTs at once) just retries next turn, so idle
         * connections do not make the whole pool resident. */
        if (u->bufs_active < u->buf_count && c->state == GN_CS_ACTIVE) {
            gn_uring_bufs_commit(u);    /* returns pending in this turn first */
            gn_uring_bufs_grow(u);
        }
    }
    /* ENOBUFS, or the kernel ended the multishot: re-arm. Buffers returned in
     * this turn are committed before the next submit. */
    if (!c->paused)
        arm_recv(u, c);
}

static void on_send(gn_uring *u, gn_conn *c, struct io_uring_cqe *cqe)
{
    c->io &= (uint8_t)~GN_IO_SEND_BUSY;
    send_ctx_put(u, c->send_ctx);
    c->send_ctx = NULL;
    if (cqe->res < 0) {
        if (!c->lost && !(c->io & GN_IO_CLOSING))
            gn_conn_on_lost(c, -cqe->res);
        c->lost = true;
    } else {
        gn_conn_on_sent(c, (size_t)cqe->res);
    }
    if (c->io & GN_IO_CLOSING)
        maybe_release(u, c);
    else if (gn_conn_has_output(c))
        gn_conn_kick(c);
}

static void dispatch(gn_uring *u, struct io_uring_cqe *cqe)
{
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    gn_conn *c = (gn_conn *)(uintptr_t)(ud & ~(uint64_t)GN_OP_MASK);
    switch (ud & GN_OP_MASK) {
    case GN_OP_ACCEPT: on_accept(u, cqe, (int)((ud >> 3) % GN_LK_COUNT)); break;
    case GN_OP_RECV:   on_recv(u, c, cqe); break;
    case GN_OP_SEND:   on_send(u, c, cqe); break;
    case GN_OP_WAKE:   gn_shard_on_wake(u->shard); break;
    case GN_OP_CTL:
        arm_ctl(u);
        gn_shard_on_wake(u->shard);
        break;
    default: break;
    }
}

static int u_poll(void *tp, int timeout_ms)
{
    gn_uring *u = tp;
    gn_uring_bufs_commit(u);
    struct io_uring_cqe *cqe;
    if (timeout_ms > 0 && io_uring_cq_ready(&u->ring) == 0) {
        struct __kernel_timespec ts = {
            .tv_sec = timeout_ms / 1000,
            .tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
        };
        io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
        /* The packets below happened now, not before the wait (read
         * pacing's budget and deadlines, engine/conn_pace.c). */
        u->shard->now_ms = gn_clock_ms();
    } else {
        io_uring_submit_and_get_events(&u->ring);
    }
    /* Process in bounded rounds; callbacks may queue SQEs and more CQEs may
     * become ready while we go. */
    int total = 0;
    for (int round = 0; round < 4; round++) {
        unsigned head, n = 0;
        io_uring_for_each_cqe(&u->ring, head, cqe) {
            dispatch(u, cqe);
            n++;
        }
        io_uring_cq_advance(&u->ring, n);
        gn_uring_bufs_commit(u);
        total += (int)n;
        if (n == 0)
            break;
    }
    return total;
}

const gn_transport_ops gn_uring_transport = {
    .name = "io_uring",
    .create = gn_uring_create,
    .features = gn_uring_features,
    .bound_port = gn_uring_bound_port,
    .start = u_start,
    .stop_accept = u_stop_accept,
    .poll = u_poll,
    .recv_start = u_recv_start,
    .recv_stop = u_recv_stop,
    .flush = u_flush,
    .close = u_close,
    .wake = u_wake,
    .ctl_wake = u_ctl_wake,
    .destroy = gn_uring_destroy,
};
