/* engine/uring_setup.c — io_uring backend set-up and tear-down: the ring
 * (SINGLE_ISSUER | DEFER_TASKRUN, falling back to COOP_TASKRUN, then to no
 * flags on kernels that reject them), the shard's SO_REUSEPORT listener,
 * the provided-buffer ring for multishot receive, and the control eventfd.
 *
 * Debian's liburing 2.3 has no io_uring_setup_buf_ring, so the buffer ring
 * is mmap'd here and registered with io_uring_register_buf_ring. */
#include "engine/uring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int ring_init(gn_uring *u, unsigned entries, uint32_t sqpoll_idle_ms, char *err, size_t errlen)
{
    /* SQPOLL (optional, `sqpoll`): a kernel thread per ring polls the
     * submission queue, so submits cost no syscall while it is awake; it
     * cannot be combined with DEFER_TASKRUN. Falls back to the list below
     * (logged by the engine through the feature string). */
    static const unsigned sq_tries[] = {
        IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
            IORING_SETUP_R_DISABLED,
        IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED,
        IORING_SETUP_SQPOLL,
    };
    for (size_t i = 0; sqpoll_idle_ms && i < sizeof sq_tries / sizeof sq_tries[0]; i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = sq_tries[i] | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
        p.cq_entries = entries * 4;
        p.sq_thread_idle = sqpoll_idle_ms;
        if (io_uring_queue_init_params(entries, &u->ring, &p) == 0) {
            u->setup_flags = p.flags;
            u->features = p.features;
            u->sqpoll_idle_ms = sqpoll_idle_ms;
            return 0;
        }
    }
    /* Preferred first. R_DISABLED lets the shard thread, not the creating
     * thread, become the single issuer (enabled in start()). */
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN |
            IORING_SETUP_R_DISABLED,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_R_DISABLED,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = tries[i] | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
        p.cq_entries = entries * 4;
        rc = io_uring_queue_init_params(entries, &u->ring, &p);
        if (rc == -EINVAL) {
            /* Older kernel: retry without SUBMIT_ALL / CQSIZE too. */
            memset(&p, 0, sizeof p);
            p.flags = tries[i];
            rc = io_uring_queue_init_params(entries, &u->ring, &p);
        }
        if (rc == 0) {
            u->setup_flags = p.flags;
            u->features = p.features;
            return 0;
        }
        if (rc != -EINVAL)
            break;
    }
    snprintf(err, errlen, "io_uring_queue_init: %s", strerror(-rc));
    return -1;
}

static int listener_open(const gn_tp_params *p, bool reuseport, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    const char *addr = p->bind_addr && *p->bind_addr ? p->bind_addr : "0.0.0.0";
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(p->port);
        sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(p->port);
        sl = sizeof *a6;
    } else {
        snprintf(err, errlen, "listen address '%s' is not a numeric IPv4/IPv6 address", addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Accepted sockets inherit TCP_NODELAY from the listener: one
     * setsockopt here instead of one per accepted connection. */
    if (p->tcp_nodelay)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
        (reuseport && listen(fd, p->backlog > 0 ? p->backlog : 4096) < 0)) {
        snprintf(err, errlen, "listen on %s:%u: %s", addr, p->port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int gn_listen_probe(const char *bind_addr, uint16_t port, char *err, size_t errlen)
{
    /* SO_REUSEPORT would let this process join another one's listener
     * group silently: check first that the port is free. */
    gn_tp_params p = { .bind_addr = bind_addr, .port = port };
    int fd = listener_open(&p, false, err, errlen);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int bufring_init(gn_uring *u, const gn_tp_params *p, char *err, size_t errlen)
{
    uint32_t n = 1;
    while (n < p->buf_count && n < 32768)
        n <<= 1;
    u->buf_count = n;
    u->buf_mask = (uint32_t)io_uring_buf_ring_mask(n);
    u->buf_size = p->buf_size ? p->buf_size : 16384;
    u->br_len = (size_t)n * sizeof(struct io_uring_buf);
    void *m = mmap(NULL, u->br_len, PROT_READ | PROT_WRITE,
                   MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "mmap buffer ring: %s", strerror(errno));
        return -1;
    }
    u->br = m;
    u->bufs_len = (size_t)n * u->buf_size;
    m = mmap(NULL, u->bufs_len, PROT_READ | PROT_WRITE,
             MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "mmap receive buffers: %s", strerror(errno));
        return -1;
    }
    u->bufs = m;
    io_uring_buf_ring_init(u->br);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)u->br;
    reg.ring_entries = n;
    reg.bgid = 0;
    int rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (rc < 0) {
        snprintf(err, errlen, "io_uring_register_buf_ring: %s (kernel >= 5.19 needed)",
                 strerror(-rc));
        return -1;
    }
    /* Start with a few buffers in circulation: the ring hands buffers out
     * in FIFO order, so every buffer in it gets touched (and becomes
     * resident) even under a light load. More are added on ENOBUFS. */
    u->bufs_active = 0;
    gn_uring_bufs_grow(u);
    return 0;
}

void gn_uring_bufs_grow(gn_uring *u)
{
    uint32_t from = u->bufs_active;
    uint32_t to = from ? from * 2 : 32;
    if (to > u->buf_count)
        to = u->buf_count;
    for (uint32_t i = from; i < to; i++)
        io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * u->buf_size, u->buf_size,
                              (unsigned short)i, (int)u->buf_mask, (int)(i - from));
    io_uring_buf_ring_advance(u->br, (int)(to - from));
    u->bufs_active = to;
}

void *gn_uring_create(gn_shard *s, const gn_tp_params *p, char *err, size_t errlen)
{
    gn_uring *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->shard = s;
    u->listen_fd = -1;
    for (int k = 0; k < GN_LK_COUNT; k++)
        u->kind_fd[k] = -1;
    u->ctl_efd = -1;
    if (ring_init(u, p->ring_entries ? p->ring_entries : 4096, p->sqpoll_idle_ms, err, errlen) < 0) {
        free(u);
        return NULL;
    }
    if (bufring_init(u, p, err, errlen) < 0)
        goto fail;
    u->listen_fd = listener_open(p, true, err, errlen);
    if (u->listen_fd < 0)
        goto fail;
    for (int k = GN_LK_MQTT + 1; k < GN_LK_COUNT; k++) {
        if (!p->kind_port[k])
            continue;
        gn_tp_params kp = *p;
        kp.port = p->kind_port[k];
        u->kind_fd[k] = listener_open(&kp, true, err, errlen);
        if (u->kind_fd[k] < 0)
            goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(u->listen_fd, (struct sockaddr *)&ss, &sl) == 0)
        u->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    u->ctl_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (u->ctl_efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    unsigned f = u->setup_flags;
    snprintf(u->feat, sizeof u->feat,
             "io_uring%s%s%s%s, multishot accept, multishot recv, provided buffers up to %ux%u B, msg_ring wake",
             (f & IORING_SETUP_SQPOLL) ? " SQPOLL" : "",
             (f & IORING_SETUP_SINGLE_ISSUER) ? " SINGLE_ISSUER" : "",
             (f & IORING_SETUP_DEFER_TASKRUN) ? " DEFER_TASKRUN" : "",
             (f & IORING_SETUP_COOP_TASKRUN) ? " COOP_TASKRUN" : "",
             u->buf_count, u->buf_size);
    return u;
fail:
    gn_uring_destroy(u);
    return NULL;
}

uint16_t gn_uring_bound_port(void *tp)
{
    return ((gn_uring *)tp)->port;
}

const char *gn_uring_features(void *tp)
{
    return ((gn_uring *)tp)->feat;
}

void gn_uring_destroy(void *tp)
{
    gn_uring *u = tp;
    if (!u)
        return;
    if (u->ring.ring_fd > 0)
        io_uring_queue_exit(&u->ring);
    if (u->br)
        munmap(u->br, u->br_len);
    if (u->bufs)
        munmap(u->bufs, u->bufs_len);
    if (u->listen_fd >= 0)
        close(u->listen_fd);
    for (int k = 0; k < GN_LK_COUNT; k++)
        if (u->kind_fd[k] >= 0)
            close(u->kind_fd[k]);
    if (u->ctl_efd >= 0)
        close(u->ctl_efd);
    while (u->all_send) {
        gn_send_ctx *c = u->all_send;
        u->all_send = c->all_next;
        free(c);
    }
    free(u);
}
