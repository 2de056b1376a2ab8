/* bench/loadgen/conn.c — socket life cycle and byte queues of one client
 * connection. */
#include "bench/loadgen/conn.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/loadgen/tls.h"
#include "bench/loadgen/ws.h"
#include "codec/packet.h"

gl_status gl_conn_alloc(gl_conn *c, uint32_t in_cap, uint32_t out_cap)
{
    c->in = malloc(in_cap);
    c->out = malloc(out_cap);
    if (!c->in || !c->out) {
        gl_conn_release(c);
        return GL_ERR_NOMEM;
    }
    c->in_cap = in_cap;
    c->out_cap = out_cap;
    return GL_OK;
}

void gl_conn_release(gl_conn *c)
{
    free(c->in);
    free(c->out);
    free(c->ids);
    gl_pub_tpl_free(&c->tpl);
    c->in = c->out = c->ids = NULL;
    c->in_cap = c->out_cap = 0;
}

gl_status gl_conn_open(gl_worker *w, gl_conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return GL_ERR_SYS;
    int one = 1;
    if (c->role != GL_ROLE_STORM || w->o->tls)   /* storm sends one packet each way: skip the syscall (TLS: several) */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&w->sh->addr, sizeof w->sh->addr) != 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return GL_ERR_SYS;
    }
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - w->conns),
    };
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return GL_ERR_SYS;
    }
    c->fd = fd;
    c->state = GL_CS_CONNECTING;
    c->want_write = true;
    c->read_again = false;
    c->in_len = 0;
    c->out_head = c->out_tail = c->out_mark = 0;
    return GL_OK;
}

gl_status gl_conn_connected(gl_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return GL_ERR_SYS;
    if (err != 0) {
        errno = err;                 /* reported by the caller */
        return GL_ERR_SYS;
    }
    return GL_OK;
}

void gl_conn_close(gl_conn *c, bool rst, gl_cstate state)
{
    gl_ws_detach(c);
    gl_tls_detach(c);
    if (c->fd >= 0) {
        if (rst) {
            struct linger l = { .l_onoff = 1, .l_linger = 0 };
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        close(c->fd);            /* also leaves the epoll set */
    }
    c->fd = -1;
    c->gen++;
    c->state = (uint8_t)state;
    c->want_write = false;
    c->read_again = false;
    c->in_len = 0;
    c->out_head = c->out_tail = c->out_mark = 0;
}

uint8_t *gl_conn_reserve(gl_conn *c, size_t len)
{
    if ((size_t)c->out_cap - c->out_tail >= len)
        return c->out + c->out_tail;
    if (c->out_mark > 0) {           /* drop fully sent packets */
        memmove(c->out, c->out + c->out_mark, c->out_tail - c->out_mark);
        c->out_head -= c->out_mark;
        c->out_tail -= c->out_mark;
        c->out_mark = 0;
        if ((size_t)c->out_cap - c->out_tail >= len)
            return c->out + c->out_tail;
    }
    size_t need = (size_t)c->out_tail + len;
    if (need > UINT32_MAX / 2)
        return NULL;
    size_t cap = c->out_cap ? c->out_cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(c->out, cap);
    if (!p)
        return NULL;
    c->out = p;
    c->out_cap = (uint32_t)cap;
    return c->out + c->out_tail;
}

gl_status gl_conn_put(gl_conn *c, const void *p, size_t len)
{
    uint8_t *dst = gl_conn_reserve(c, len);
    if (!dst)
        return GL_ERR_NOMEM;
    memcpy(dst, p, len);
    c->out_tail += (uint32_t)len;
    return GL_OK;
}

gl_status gl_conn_flush(gl_worker *w, gl_conn *c, uint64_t now)
{
    if (c->fd < 0 || c->state == GL_CS_CONNECTING)
        return GL_OK;
    if (c->ws) {
        gl_status s = gl_ws_flush(c, now);
        if (s != GL_OK)
            return s;
    }
    while (!c->ws && c->out_head < c->out_tail) {
        ssize_t n = c->ssl ? gl_tls_send(c, c->out + c->out_head, c->out_tail - c->out_head)
                           : send(c->fd, c->out + c->out_head, c->out_tail - c->out_head,
                                  MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->want_write = true;
                break;
            }
            return GL_ERR_CLOSED;
        }
        c->out_head += (uint32_t)n;
        c->last_tx_ns = now;
    }
    /* Count PUBLISH packets whose last byte is now with the kernel. */
    while (c->out_mark < c->out_head) {
        gn_frame f;
        size_t need;
        if (gn_frame_one(c->out + c->out_mark, c->out_head - c->out_mark, 0, &f, &need) != GN_OK)
            break;
        if ((f.first_byte >> 4) == GN_PUBLISH)
            w->sent++;
        c->out_mark += f.total_len;
    }
    if (c->out_mark == c->out_tail)
        c->out_head = c->out_tail = c->out_mark = 0;
    return GL_OK;
}

gl_status gl_conn_read(gl_conn *c, size_t *got)
{
    *got = 0;
    if (c->in_len == c->in_cap && gl_conn_in_grow(c, (size_t)c->in_cap * 2) != GL_OK)
        return GL_ERR_NOMEM;
    for (;;) {
        ssize_t n = c->ws ? gl_ws_recv(c, c->in + c->in_len, c->in_cap - c->in_len)
                  : c->ssl ? gl_tls_recv(c, c->in + c->in_len, c->in_cap - c->in_len)
                           : recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
        if (n > 0) {
            c->in_len += (uint32_t)n;
            *got = (size_t)n;
            return GL_OK;
        }
        if (n == 0)
            return GL_ERR_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return GL_OK;
        return GL_ERR_CLOSED;
    }
}

gl_status gl_conn_in_grow(gl_conn *c, size_t total)
{
    if (total <= c->in_cap)
        return GL_OK;
    if (total > (size_t)GN_MAX_REMAINING_LENGTH + 5)
        return GL_ERR_PROTOCOL;
    uint8_t *p = realloc(c->in, total);
    if (!p)
        return GL_ERR_NOMEM;
    c->in = p;
    c->in_cap = (uint32_t)total;
    return GL_OK;
}
