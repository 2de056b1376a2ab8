/* bench/loadgen/main.c — gnload: the coordinator. Parses options, starts
 * the worker threads, steps them through the phases (setup, run, drain,
 * stop), samples CPU and broker memory, merges the results and prints them.
 * Exit status: 0 ok, 1 the run failed (setup, lost connection), 2 usage or
 * start-up error. */
#include <arpa/inet.h>
#include <netdb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/loadgen/ident.h"
#include "bench/loadgen/opts.h"
#include "bench/loadgen/procstat.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/worker.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool resolve(const char *host, uint16_t port, struct sockaddr_in *out)
{
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &out->sin_addr) == 1)
        return true;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return false;
    out->sin_addr = ((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return true;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

typedef struct progress {
    uint64_t sent, unique, busy, connects;
    uint32_t ready, failed;
    int      min_phase;        /* the phase every worker has completed a turn in */
    bool     fatal;
} progress;

static progress poll_workers(gl_worker *ws, uint32_t n)
{
    progress p = { .min_phase = GL_PHASE_STOP };
    for (uint32_t i = 0; i < n; i++) {
        gl_worker *w = &ws[i];
        /* acquire, loaded first: pairs with the worker's release, so the
         * progress loads below see at least that turn's values */
        int ph = atomic_load_explicit(&w->p_phase, memory_order_acquire);
        if (ph < p.min_phase)
            p.min_phase = ph;
        p.sent += atomic_load_explicit(&w->p_sent, memory_order_relaxed);
        p.unique += atomic_load_explicit(&w->p_unique, memory_order_relaxed);
        p.busy += atomic_load_explicit(&w->p_busy, memory_order_relaxed);
        p.connects += atomic_load_explicit(&w->p_connects, memory_order_relaxed);
        p.ready += atomic_load_explicit(&w->p_ready, memory_order_relaxed);
        p.failed += atomic_load_explicit(&w->p_failed, memory_order_relaxed);
        p.fatal |= atomic_load_explicit(&w->p_fatal, memory_order_relaxed) != 0;
    }
    return p;
}

static void set_phase(gl_shared *sh, gl_phase p)
{
    atomic_store_explicit(&sh->phase, (int)p, memory_order_release);
}

static void fail(gl_result *r, const char *msg)
{
    if (r->ok) {
        r->ok = false;
        snprintf(r->error, sizeof r->error, "%s", msg);
    }
}

int main(int argc, char **argv)
{
    gl_opts o;
    bool help;
    if (gl_opts_parse(argc, argv, &o, &help) != GL_OK)
        return 2;
    if (help)
        return 0;
    int policy = sched_getscheduler(0);
    if (o.pace_spin && (policy == SCHED_FIFO || policy == SCHED_RR)) {
        /* a spinning real-time worker never lets the main thread (same
         * class and priority, same CPU under taskset) run: the run never
         * ends */
        fprintf(stderr, "gnload: --pace-spin in a real-time class (chrt) would starve gnload's "
                        "own timing thread; use one or the other\n");
        return 2;
    }
    raise_nofile();

    static gl_idents idents;
    if (o.mode == GL_MODE_STORM && gl_ident_load(&o, &idents) != GL_OK)
        return 2;
    static gl_shared sh;
    sh.o = &o;
    sh.idents = &idents;
    sh.groups = o.mode == GL_MODE_SHARED ? 1 : o.subs;
    atomic_init(&sh.phase, GL_PHASE_SETUP);
    if (!resolve(o.host, o.port, &sh.addr)) {
        fprintf(stderr, "gnload: cannot resolve %s\n", o.host);
        return 2;
    }

    static gl_result r;
    r.ok = true;
    r.broker_cpu = -1.0;
    if (o.broker_pid)
        r.have_rss = gl_proc_rss(o.broker_pid, &r.rss_before);

    uint32_t nt = o.threads;
    gl_worker *ws = calloc(nt, sizeof *ws);
    if (!ws)
        return 2;
    for (uint32_t i = 0; i < nt; i++) {
        gl_status s = gl_worker_init(&ws[i], &sh, i, nt);
        if (s != GL_OK) {
            fprintf(stderr, "gnload: worker set-up failed: %s\n", gl_status_name(s));
            return 2;
        }
    }
    uint32_t started = 0;
    for (; started < nt; started++)
        if (pthread_create(&ws[started].thread, NULL, gl_worker_main, &ws[started]) != 0) {
            fail(&r, "pthread_create failed");
            break;
        }

    /* Setup: every connection through CONNACK (and SUBACK). */
    uint32_t total = o.pubs + o.subs + (o.mode == GL_MODE_IDLE ? o.conns : 0);
    uint64_t t0 = gl_now_ns();
    uint64_t setup_deadline = t0 + (uint64_t)(o.setup_timeout * 1e9);
    while (r.ok) {
        progress p = poll_workers(ws, nt);
        if (p.fatal)
            fail(&r, "setup failed");
        else if (p.ready + p.failed >= total)
            break;
        else if (gl_now_ns() > setup_deadline)
            fail(&r, "setup timed out");
        else
            sleep_ms(2);
    }
    if (r.ok && o.mode == GL_MODE_IDLE) {
        sleep_ms((unsigned)(o.settle * 1000));
        if (r.have_rss)
            r.have_rss = gl_proc_rss(o.broker_pid, &r.rss_after);
    }

    /* Run. */
    double limit = o.seconds > 0 ? o.seconds : 600.0;
    uint64_t t_run = gl_now_ns(), t_end = t_run, t_last_rx = t_run;
    uint64_t cpu0 = gl_self_cpu_ns(), cpu1 = cpu0, bcpu0 = 0, bcpu1 = 0;
    bool have_bcpu = o.broker_pid && gl_proc_cpu(o.broker_pid, &bcpu0);
    uint64_t sent_at_end = 0, connects_at_end = 0, last_unique = 0;
    if (r.ok) {
        set_phase(&sh, GL_PHASE_RUN);
        uint64_t deadline = t_run + (uint64_t)(limit * 1e9);
        for (;;) {
            sleep_ms(1);
            progress p = poll_workers(ws, nt);
            uint64_t now = gl_now_ns();
            if (p.unique != last_unique) {
                last_unique = p.unique;
                t_last_rx = now;
            }
            if (p.fatal) {
                fail(&r, "connection lost during the run");
                break;
            }
            if (now >= deadline || (o.count > 0 && p.sent >= o.count))
                break;
        }
        t_end = gl_now_ns();
        cpu1 = gl_self_cpu_ns();
        if (have_bcpu)
            have_bcpu = gl_proc_cpu(o.broker_pid, &bcpu1);
        if (r.have_rss && o.mode != GL_MODE_IDLE)
            r.have_rss = gl_proc_rss(o.broker_pid, &r.rss_after);
        progress p = poll_workers(ws, nt);
        sent_at_end = p.sent;
        connects_at_end = p.connects;
    }

    /* Drain: wait (bounded) for acks and deliveries in flight. */
    uint64_t t_drain = gl_now_ns();
    if (r.ok && o.mode != GL_MODE_STORM && o.mode != GL_MODE_IDLE) {
        set_phase(&sh, GL_PHASE_DRAIN);
        uint64_t deadline = t_drain + (uint64_t)(o.drain * 1e9);
        for (;;) {
            progress p = poll_workers(ws, nt);
            uint64_t now = gl_now_ns();
            if (p.unique != last_unique) {
                last_unique = p.unique;
                t_last_rx = now;
            }
            bool delivered = !gl_mode_has_subs(o.mode) || p.unique >= p.sent * sh.groups;
            bool settled = p.min_phase >= GL_PHASE_DRAIN && p.busy == 0 && delivered;
            if (settled || now >= deadline || p.fatal)
                break;
            sleep_ms(1);
        }
    }
    r.drain_secs = (double)(gl_now_ns() - t_drain) * 1e-9;
    set_phase(&sh, GL_PHASE_STOP);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(ws[i].thread, NULL);

    /* Merge. */
    gl_seqtrack all;
    bool track = gl_mode_has_subs(o.mode);
    if (track && gl_seqtrack_init(&all, sh.groups, o.pubs) != GL_OK)
        track = false;
    for (uint32_t i = 0; i < nt; i++) {
        gl_worker *w = &ws[i];
        if (w->fatal != GL_OK) {           /* the worker's detail beats main's summary */
            r.ok = false;
            snprintf(r.error, sizeof r.error, "%s", w->fatal_msg);
        }
        r.sent += w->sent;
        r.acked += w->acked;
        r.rejected += w->rejected;
        r.foreign += w->foreign;
        r.connects += w->connects;
        r.connect_failures += w->connect_failures;
        r.disconnects += w->disconnects;
        r.protocol_errors += w->protocol_errors;
        r.conns_ready += w->ready_conns;
        r.conns_failed += w->failed_conns;
        gl_hist_merge(&r.lat, &w->lat);
        for (uint32_t k = w->npub; k < w->nconns && o.mode == GL_MODE_SHARED; k++)
            if (w->conns[k].role == GL_ROLE_SUB && r.nshares < GL_MAX_SHARES)
                r.shares[r.nshares++] = w->conns[k].got;
        if (track && gl_seqtrack_merge(&all, &w->seq) != GL_OK)
            fail(&r, "out of memory merging sequence maps");
        gl_worker_free(w);
    }
    free(ws);
    gl_ident_free(&idents);
    if (track) {
        r.received = all.received;
        r.unique = all.unique;
        gl_seqtrack_free(&all);
        r.expected = r.sent * sh.groups;
        r.lost = r.expected > r.unique ? r.expected - r.unique : 0;
        r.duplicates = r.received - r.unique;
    }

    if (r.nshares) {
        double sum = 0, dev = 0;
        for (uint32_t k = 0; k < r.nshares; k++)
            sum += (double)r.shares[k];
        double mean = sum / r.nshares;
        for (uint32_t k = 0; k < r.nshares && mean > 0; k++) {
            double d = ((double)r.shares[k] - mean) / mean;
            dev = d < 0 ? (-d > dev ? -d : dev) : (d > dev ? d : dev);
        }
        r.share_dev = dev;
    }
    r.send_secs = (double)(t_end - t_run) * 1e-9;
    r.recv_secs = (double)(t_last_rx - t_run) * 1e-9;
    if (r.send_secs > 0) {
        r.sent_per_s = (double)sent_at_end / r.send_secs;
        r.connects_per_s = (double)connects_at_end / r.send_secs;
        r.loadgen_cpu = (double)(cpu1 - cpu0) / (double)(t_end - t_run);
        if (have_bcpu)
            r.broker_cpu = (double)(bcpu1 - bcpu0) / (double)(t_end - t_run);
    }
    if (r.recv_secs > 0)
        r.received_per_s = (double)r.unique / r.recv_secs;
    if (o.mode == GL_MODE_IDLE) {
        if (r.have_rss && r.conns_ready > 0)
            r.bytes_per_conn = ((double)r.rss_after - (double)r.rss_before) / r.conns_ready;
        if (r.disconnects > 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "%llu idle connections were closed by the broker",
                     (unsigned long long)r.disconnects);
            fail(&r, msg);
        }
        if (r.conns_failed > 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "%u of %u connections failed", r.conns_failed, o.conns);
            fail(&r, msg);
        }
    }
    if (o.json)
        gl_report_json(stdout, &o, &r);
    else
        gl_report_text(stdout, &o, &r);
    return r.ok ? 0 : 1;
}
