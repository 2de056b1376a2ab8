/* bench/loadgen/worker.c — the event loop of one gnload thread: setup
 * (connect, CONNACK, SUBACK with a bounded number of handshakes in flight),
 * publishing, delivery handling, keep-alive pings, drain and shutdown. */
#include "bench/loadgen/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bench/loadgen/conn.h"
#include "bench/loadgen/procstat.h"
#include "bench/loadgen/proto.h"
#include "bench/loadgen/publisher.h"
#include "bench/loadgen/storm.h"
#include "bench/loadgen/tls.h"
#include "bench/loadgen/ws.h"
#include "bench/loadgen/storm_uring.h"

#define GL_READ_BUDGET  4       /* reads per connection per loop turn */
#define GL_MAX_HANDSHAKES 128u  /* per run, split over the workers */
#define GL_PUMP_ROUNDS  4       /* fill+send rounds per publisher per loop turn */

static uint32_t count_for(uint32_t total, uint32_t index, uint32_t nthreads)
{
    return total / nthreads + (index < total % nthreads ? 1u : 0u);
}

gl_status gl_worker_init(gl_worker *w, gl_shared *sh, uint32_t index, uint32_t nthreads)
{
    const gl_opts *o = sh->o;
    gl_status s;
    memset(w, 0, sizeof *w);
    w->sh = sh;
    w->o = o;
    w->index = index;
    w->ep = -1;
    if ((s = gl_ctl_tpls_init(&w->ctl, o->protocol)) != GL_OK)
        return s;
    if (gl_mode_has_subs(o->mode) &&
        (s = gl_seqtrack_init(&w->seq, sh->groups, o->pubs)) != GL_OK)
        return s;

    uint32_t npub = count_for(o->pubs, index, nthreads);
    uint32_t nsub = count_for(o->subs, index, nthreads);
    uint32_t nother = o->mode == GL_MODE_IDLE || o->mode == GL_MODE_STORM
        ? count_for(o->conns, index, nthreads) : 0;
    if (o->mode == GL_MODE_STORM && nother == 0)
        nother = 1;
    w->nconns = npub + nsub + nother;
    w->npub = npub;
    w->conns = calloc(w->nconns ? w->nconns : 1, sizeof *w->conns);
    if (!w->conns)
        return GL_ERR_NOMEM;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    if (w->ep < 0)
        return GL_ERR_SYS;

    uint32_t k = 0;
    size_t pub_out = 65536;
    if (pub_out < 4 * ((size_t)o->payload + 1100))
        pub_out = 4 * ((size_t)o->payload + 1100);
    for (uint32_t i = 0; i < npub; i++, k++) {
        gl_conn *c = &w->conns[k];
        c->fd = -1;
        c->role = GL_ROLE_PUB;
        c->index = index + i * nthreads;
        uint64_t quota = UINT64_MAX;
        if (o->count > 0)
            quota = o->count / o->pubs + (c->index < o->count % o->pubs ? 1u : 0u);
        if ((s = gl_conn_alloc(c, 16384, (uint32_t)pub_out)) != GL_OK ||
            (s = gl_publisher_init(w, c, quota)) != GL_OK)
            return s;
    }
    for (uint32_t i = 0; i < nsub; i++, k++) {
        gl_conn *c = &w->conns[k];
        c->fd = -1;
        c->role = GL_ROLE_SUB;
        c->index = index + i * nthreads;
        c->group = o->mode == GL_MODE_SHARED ? 0 : c->index;
        if ((s = gl_conn_alloc(c, 262144, 16384)) != GL_OK)
            return s;
    }
    for (uint32_t i = 0; i < nother; i++, k++) {
        gl_conn *c = &w->conns[k];
        c->fd = -1;
        c->role = o->mode == GL_MODE_STORM ? GL_ROLE_STORM : GL_ROLE_IDLE;
        c->index = index + i * nthreads;
        if ((s = gl_conn_alloc(c, 256, 256)) != GL_OK)
            return s;
    }
    return GL_OK;
}

void gl_worker_free(gl_worker *w)
{
    for (uint32_t i = 0; w->conns && i < w->nconns; i++) {
        if (w->conns[i].fd >= 0)
            gl_conn_close(&w->conns[i], true, GL_CS_DEAD);
        gl_conn_release(&w->conns[i]);
    }
    free(w->conns);
    w->conns = NULL;
    if (w->ep >= 0)
        close(w->ep);
    w->ep = -1;
    gl_seqtrack_free(&w->seq);
}

static void set_fatal(gl_worker *w, gl_status s, const char *what, const gl_conn *c)
{
    if (w->fatal != GL_OK)
        return;
    w->fatal = s;
    snprintf(w->fatal_msg, sizeof w->fatal_msg, "%s (connection %u, role %d): %s%s%s",
             what, c->index, c->role, gl_status_name(s),
             s == GL_ERR_SYS ? ": " : "", s == GL_ERR_SYS ? strerror(errno) : "");
    atomic_store_explicit(&w->p_fatal, 1, memory_order_relaxed);
}

static bool in_setup(const gl_conn *c)
{
    return c->state == GL_CS_CONNECTING || c->state == GL_CS_WAIT_CONNACK ||
           c->state == GL_CS_WAIT_SUBACK;
}

/* A connection failed or was closed by the broker. */
static void conn_lost(gl_worker *w, gl_conn *c, gl_status s, uint64_t now, int phase)
{
    if (c->role == GL_ROLE_STORM) {
        gl_storm_failed(w, c, now, phase);
        return;
    }
    if (in_setup(c)) {
        w->failed_conns++;
        w->connecting--;
        atomic_store_explicit(&w->p_failed, w->failed_conns, memory_order_relaxed);
        if (c->role != GL_ROLE_IDLE)
            set_fatal(w, s, "setup failed", c);
    } else if (phase < GL_PHASE_STOP) {
        w->disconnects++;
        if (c->role == GL_ROLE_PUB || c->role == GL_ROLE_SUB)
            set_fatal(w, s, "connection lost", c);
    }
    if (c->role == GL_ROLE_PUB) {
        c->inflight = 0;
        c->quota = 0;
    }
    gl_conn_close(c, true, GL_CS_DEAD);
}

static gl_status start_handshake(gl_worker *w, gl_conn *c)
{
    char id[128];
    uint8_t buf[512];
    size_t len;
    static const char *const role_names[] = { "p", "s", "i", "x" };
    bool sub = c->role == GL_ROLE_SUB;
    const char *pattern = sub && w->o->sub_client_id ? w->o->sub_client_id : w->o->client_id;
    if (pattern) {
        if (!gl_topic_expand(pattern, c->index, id, sizeof id))
            return GL_ERR_USAGE;
    } else {
        snprintf(id, sizeof id, "gnload-%03x-%s%u", w->o->run_tag, role_names[c->role], c->index);
    }
    const char *user = sub && w->o->sub_username ? w->o->sub_username : w->o->username;
    const char *pass = sub && w->o->sub_password ? w->o->sub_password : w->o->password;
    gl_status s = gl_encode_connect_as(w->o, id, user, pass, buf, sizeof buf, &len);
    if (s != GL_OK)
        return s;
    return gl_conn_put(c, buf, len);
}

/* EPOLLOUT while CONNECTING: the TCP handshake is over. */
static gl_status on_connected(gl_worker *w, gl_conn *c, uint32_t events)
{
    /* Storm: an error shows as EPOLLERR/EPOLLHUP (or on the send), so the
     * SO_ERROR syscall is saved on the path being measured. */
    gl_status s = c->role == GL_ROLE_STORM && !(events & (EPOLLERR | EPOLLHUP))
        ? GL_OK : gl_conn_connected(c);
    if (s == GL_OK && w->o->tls)
        s = gl_tls_attach(w->o, c);
    if (s == GL_OK && w->o->ws)
        s = gl_ws_attach(w->o, c);
    if (s != GL_OK)
        return s;
    c->state = GL_CS_WAIT_CONNACK;
    return c->role == GL_ROLE_STORM ? gl_storm_send_connect(w, c) : start_handshake(w, c);
}

static void handle_input(gl_worker *w, gl_conn *c, uint64_t now, int phase)
{
    uint8_t before = c->state;
    c->read_again = false;
    for (int i = 0; i < GL_READ_BUDGET; i++) {
        size_t got;
        gl_status s = gl_conn_read(c, &got);
        if (s == GL_OK && got > 0)
            s = gl_proto_input(w, c, now);
        if (s != GL_OK) {
            conn_lost(w, c, s, now, phase);
            return;
        }
        if (got == 0 || (c->role == GL_ROLE_STORM && c->state == GL_CS_READY))
            goto done;               /* storm: CONNACK is all we wait for; spare the EAGAIN read */
    }
    c->read_again = true;            /* budget used up, data may remain */
    w->any_again = true;
done:
    if (before != GL_CS_READY && c->state == GL_CS_READY) {
        if (c->role == GL_ROLE_STORM) {
            gl_storm_done(w, c, now, phase);
            return;
        }
        w->ready_conns++;
        w->connecting--;
        atomic_store_explicit(&w->p_ready, w->ready_conns, memory_order_relaxed);
    }
    gl_status s = gl_conn_flush(w, c, now);
    if (s != GL_OK)
        conn_lost(w, c, s, now, phase);
}

static void handle_event(gl_worker *w, const struct epoll_event *ev, uint64_t now, int phase)
{
    uint32_t idx = (uint32_t)ev->data.u64;
    uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
    if (idx >= w->nconns)
        return;
    gl_conn *c = &w->conns[idx];
    if (c->gen != gen || c->fd < 0)
        return;                      /* event of a socket closed earlier in this batch */
    if (c->state == GL_CS_CONNECTING) {
        if (!(ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        gl_status s = on_connected(w, c, ev->events);
        if (s != GL_OK) {
            conn_lost(w, c, s, now, phase);
            return;
        }
        c->want_write = false;
        if ((s = gl_conn_flush(w, c, now)) != GL_OK) {
            conn_lost(w, c, s, now, phase);
            return;
        }
    } else if (ev->events & EPOLLOUT) {
        c->want_write = false;
        gl_status s = gl_conn_flush(w, c, now);
        if (s != GL_OK) {
            conn_lost(w, c, s, now, phase);
            return;
        }
    }
    if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        handle_input(w, c, now, phase);
}

/* Open more connections while the number of handshakes is under the limit. */
static void setup_step(gl_worker *w, uint32_t nthreads)
{
    uint32_t limit = GL_MAX_HANDSHAKES / nthreads;
    if (limit == 0)
        limit = 1;
    while (w->next_start < w->nconns && w->connecting < limit) {
        gl_conn *c = &w->conns[w->next_start++];
        if (c->role == GL_ROLE_STORM)
            continue;
        w->connecting++;
        gl_status s = gl_conn_open(w, c);
        if (s != GL_OK)
            conn_lost(w, c, s, 0, GL_PHASE_SETUP);
    }
}

static void send_pings(gl_worker *w, uint64_t now, int phase)
{
    uint64_t half = (uint64_t)w->o->keepalive * 500000000u;
    if (half == 0)
        return;
    for (uint32_t i = 0; i < w->nconns; i++) {
        gl_conn *c = &w->conns[i];
        if (c->state != GL_CS_READY || c->role == GL_ROLE_STORM || now - c->last_tx_ns < half)
            continue;
        gl_status s = gl_conn_put(c, w->ctl.pingreq, sizeof w->ctl.pingreq);
        if (s == GL_OK)
            s = gl_conn_flush(w, c, now);
        if (s != GL_OK)
            conn_lost(w, c, s, now, phase);
    }
}

/* Fill and send until the socket pushes back (EAGAIN: EPOLLOUT will come),
 * the window, rate or quota stops us, or the per-turn budget is used (then
 * the loop comes back without sleeping). */
static void pump(gl_worker *w, gl_conn *c, uint64_t now, int phase)
{
    if (c->state != GL_CS_READY || c->want_write)
        return;
    for (int round = 0; round < GL_PUMP_ROUNDS; round++) {
        uint32_t n = phase == GL_PHASE_RUN ? gl_publisher_fill(w, c, now) : 0;
        gl_status s = gl_conn_flush(w, c, now);
        if (s != GL_OK) {
            conn_lost(w, c, s, now, phase);
            return;
        }
        if (n == 0 || c->want_write)
            return;
    }
    w->pub_hungry = true;
}

static void publish_progress(gl_worker *w)
{
    uint64_t busy = 0;
    for (uint32_t i = 0; i < w->npub; i++) {
        const gl_conn *c = &w->conns[i];
        if (c->fd >= 0)
            busy += c->inflight + (c->out_tail - c->out_mark);
    }
    atomic_store_explicit(&w->p_sent, w->sent, memory_order_relaxed);
    atomic_store_explicit(&w->p_unique, w->seq.unique, memory_order_relaxed);
    atomic_store_explicit(&w->p_busy, busy, memory_order_relaxed);
    atomic_store_explicit(&w->p_connects, w->connects, memory_order_relaxed);
}

void *gl_worker_main(void *arg)
{
    gl_worker *w = arg;
    const gl_opts *o = w->o;
    uint32_t nthreads = o->threads;
    int last_phase = -1;
    uint64_t next_ping = gl_now_ns() + 1000000000u;
    struct epoll_event evs[256];

    if (o->pace_us)
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);    /* short sleeps stay short (default slack 50 us) */

    if (o->mode == GL_MODE_STORM && !o->storm_epoll && !o->tls && !o->ws) {   /* TLS / WebSocket: the epoll loop */
        gl_storm_uring_run(w);
        return NULL;
    }

    for (;;) {
        int phase = atomic_load_explicit(&w->sh->phase, memory_order_acquire);
        uint64_t now = gl_now_ns();
        if (phase == GL_PHASE_STOP)
            break;
        if (phase != last_phase && phase == GL_PHASE_RUN) {
            for (uint32_t i = 0; i < w->nconns; i++) {
                gl_conn *c = &w->conns[i];
                if (c->role == GL_ROLE_PUB)
                    gl_publisher_start(w, c, now);
                else if (c->role == GL_ROLE_STORM)
                    gl_storm_begin(w, c, now);
            }
        }
        last_phase = phase;
        if (phase == GL_PHASE_SETUP)
            setup_step(w, nthreads);

        int timeout = w->any_again || w->pub_hungry ? 0 : (o->rate > 0 || phase != GL_PHASE_RUN) ? 1 : 10;
        int n;
        if (timeout == 1 && o->rate > 0 && o->pace_us && phase == GL_PHASE_RUN && o->pace_spin) {
            /* --pace-spin: poll until one period has passed since the last pump */
            uint64_t until = w->pace_ns + (uint64_t)o->pace_us * 1000u;
            do {
                n = epoll_wait(w->ep, evs, 256, 0);
            } while (n == 0 && gl_now_ns() < until);
        } else if (timeout == 1 && o->rate > 0 && o->pace_us && phase == GL_PHASE_RUN) {
            /* --pace-us: sleep one period (timer slack set to 1 ns at start) */
            struct timespec ts = { 0, (long)o->pace_us * 1000L };
            n = epoll_pwait2(w->ep, evs, 256, &ts, NULL);
        } else {
            n = epoll_wait(w->ep, evs, 256, timeout);
        }
        if (n < 0 && errno != EINTR) {
            w->fatal = GL_ERR_SYS;
            snprintf(w->fatal_msg, sizeof w->fatal_msg, "epoll_wait: %s", strerror(errno));
            atomic_store_explicit(&w->p_fatal, 1, memory_order_relaxed);
            break;
        }
        now = gl_now_ns();
        for (int i = 0; i < n; i++)
            handle_event(w, &evs[i], now, phase);
        if (w->any_again) {
            w->any_again = false;
            for (uint32_t i = 0; i < w->nconns; i++)
                if (w->conns[i].read_again && w->conns[i].fd >= 0)
                    handle_input(w, &w->conns[i], now, phase);
        }
        w->pub_hungry = false;
        /* A fresh clock per publisher: the payload's timestamp is the time
         * its PUBLISH goes to the kernel, not the start of a turn that
         * first spent its time reading deliveries. */
        w->pace_ns = gl_now_ns();
        for (uint32_t i = 0; i < w->npub; i++)
            pump(w, &w->conns[i], gl_now_ns(), phase);
        if (o->mode == GL_MODE_STORM && phase == GL_PHASE_RUN)
            for (uint32_t i = 0; i < w->nconns; i++)
                if (w->conns[i].state == GL_CS_FREE)
                    gl_storm_begin(w, &w->conns[i], now);
        if (now >= next_ping) {
            send_pings(w, now, phase);
            next_ping = now + 1000000000u;
        }
        publish_progress(w);
        /* release: the progress stores above are visible to whoever sees this phase */
        atomic_store_explicit(&w->p_phase, phase, memory_order_release);
    }

    uint64_t now = gl_now_ns();
    for (uint32_t i = 0; i < w->nconns; i++) {
        gl_conn *c = &w->conns[i];
        if (c->fd < 0)
            continue;
        if (c->state == GL_CS_READY && gl_conn_put(c, w->ctl.disconnect, w->ctl.disconnect_len) == GL_OK)
            (void)gl_conn_flush(w, c, now);
        gl_conn_close(c, false, GL_CS_DEAD);
    }
    publish_progress(w);
    return NULL;
}
