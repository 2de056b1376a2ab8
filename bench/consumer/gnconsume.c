/* bench/consumer/gnconsume.c — the consumer side of the consumer benchmark:
 * an embedded engine with N consumers on one filter (each gets every
 * event), each read by its own thread, fed by gnload (--mode ingest) over
 * TCP. Reads gnload's payload (u32 tag|publisher, u32 sequence, u64
 * CLOCK_MONOTONIC send time) in place, counts events, checks per-publisher
 * order and records publish-to-consumer-read latency. On SIGTERM / SIGINT
 * (or after --seconds) prints one JSON line:
 *   {"consumers":N,"events":E,"events_per_s":R,"lat_p50_us":..,"lat_p99_us":..,
 *    "engine_p50_us":..,"engine_p99_us":..,"gaps":G,"reorders":O,"dropped":D,...}
 * lat_*: gnload's send time (CLOCK_MONOTONIC, taken when the message is
 * written into its socket, same machine) to the read; wire_*: that send
 * time to the shard's receive timestamp (gn_event.received_ns, CLOCK_REALTIME,
 * mapped to CLOCK_MONOTONIC with the offset measured at start), i.e.
 * loopback TCP plus the shard getting to the bytes; engine_*: the shard's
 * receive timestamp to the read, i.e. the ring hand-off and the consumer
 * thread's wake-up alone.
 * events_per_s is the mean over consumers of events / (last - first read).
 *
 * Usage: gnconsume [-p PORT] [-t SHARDS] [-n CONSUMERS] [-f FILTER]
 *                  [-m block|drop] [-r RING_BYTES] [-s SECONDS] [-c CPU]
 *                  [-C CPU] [-w] [-S SPIN_US] [-L SLICE_US] [-K SLICE_US] [-P PRIO] [-Y]
 *                  [-I] [-o KEY=VALUE]...
 *   -c pins the shard(s) to CPU (consumer threads are pinned to it too
 *   unless -C gives theirs); -w: sleep in gn_consumer_wait instead of
 *   polling without pause; -S: the consumers' spin_us (gn_consumer_opts;
 *   -1 never); -L: the consumer threads' EEVDF slice (gn_thread_set_slice);
 *   -K: the shards' slice (configuration key shard_slice_us); -P: the
 *   consumer threads' SCHED_FIFO priority (run under chrt -f N with N < PRIO
 *   for a consumer that preempts its shard as soon as it is woken); -Y: the
 *   consumers' wake policy GN_WAKE_NO_YIELD (default GN_WAKE_YIELD); -I:
 *   inline consumers (gn_consumer_opts.on_events: the shards read the
 *   events on their own threads; no consumer threads, -w -S -L -P -Y do
 *   not apply); -o: any engine configuration key (e.g. -o shard_poll_us=50). */
#include <gannet.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/loadgen/hist.h"

#define MAX_CONSUMERS 8
#define MAX_PUBS      4096

typedef struct reader {
    gn_consumer *c;
    pthread_t    th;
    gl_hist      lat;            /* gnload's send time -> read */
    gl_hist      eng;            /* the shard's receive time (gn_event.received_ns) -> read */
    gl_hist      wire;           /* gnload's send time -> the shard's receive time */
    uint64_t     events, gaps, reorders, first_ns, last_ns;
    uint32_t     next_seq[MAX_PUBS];
} reader;

static volatile sig_atomic_t stop_flag;
static _Atomic int quit;        /* seq_cst: main -> readers */
static int reader_cpu = -1;
static bool use_wait;
static uint32_t reader_slice_us;
static int reader_fifo;          /* -P: the consumer threads' SCHED_FIFO priority (0: unchanged) */
static int64_t real_minus_mono;  /* CLOCK_REALTIME - CLOCK_MONOTONIC at start, ns */

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Count, check the order of and time one batch. */
static void read_batch(reader *r, gn_batch *b)
{
    uint64_t now = mono_ns(), rnow = real_ns();
    for (const gn_event *ev; (ev = gn_batch_next(b)) != NULL;) {
        if (ev->payload_len < 16)
            continue;
        const uint8_t *p = gn_event_payload(ev);
        uint32_t tagpub, seq;
        uint64_t sent;
        memcpy(&tagpub, p, 4);
        memcpy(&seq, p + 4, 4);
        memcpy(&sent, p + 8, 8);
        uint32_t pub = tagpub & ((1u << 20) - 1);
        if (pub < MAX_PUBS) {
            if (seq < r->next_seq[pub])
                r->reorders++;
            else if (seq > r->next_seq[pub])
                r->gaps += seq - r->next_seq[pub];
            r->next_seq[pub] = seq + 1;
        }
        if (now > sent)
            gl_hist_record(&r->lat, now - sent);
        if (rnow > ev->received_ns)
            gl_hist_record(&r->eng, rnow - ev->received_ns);
        uint64_t recv_mono = ev->received_ns - (uint64_t)real_minus_mono;
        if (recv_mono > sent)
            gl_hist_record(&r->wire, recv_mono - sent);
        r->events++;
    }
    if (!r->first_ns)
        r->first_ns = now;
    r->last_ns = now;
}

static void *read_loop(void *arg)
{
    reader *r = arg;
    pin(reader_cpu);
    char err[160];
    if (reader_slice_us && gn_thread_set_slice(reader_slice_us, err, sizeof err) < 0)
        fprintf(stderr, "gnconsume: %s\n", err);
    if (reader_fifo) {
        struct sched_param sp = { .sched_priority = reader_fifo };
        int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
        if (rc)
            fprintf(stderr, "gnconsume: SCHED_FIFO %d: %s\n", reader_fifo, strerror(rc));
    }
    while (!atomic_load_explicit(&quit, memory_order_relaxed)) {   /* relaxed: a stop hint */
        gn_batch b;
        if (gn_consumer_poll(r->c, &b, 256) == 0) {
            if (use_wait)
                gn_consumer_wait(r->c, 50);
            continue;
        }
        read_batch(r, &b);
        gn_consumer_release(r->c, &b);
    }
    return NULL;
}

/* -I: an inline consumer's on_events, on the thread of shard b->ring; arg
 * is the consumer's readers, one per shard (each touched by its shard only). */
static void on_events(void *arg, gn_batch *b)
{
    read_batch((reader *)arg + b->ring, b);
}

int main(int argc, char **argv)
{
    gn_config cfg;
    char err[256];
    const char *filter = "#";
    int nc = 1, cpu = -1;
    double seconds = 0;
    gn_consumer_opts co = { .backpressure = GN_BACKPRESSURE_BLOCK, .ring_bytes = 16u << 20 };
    gn_config_defaults(&cfg);
    gn_config_set(&cfg, "shards", "1", err, sizeof err);
    bool inline_mode = false;
    for (int o; (o = getopt(argc, argv, "p:t:n:f:m:r:s:c:C:wS:L:K:P:YIo:")) != -1;) {
        int rc = 0;
        switch (o) {
        case 'p': rc = gn_config_set(&cfg, "port", optarg, err, sizeof err); break;
        case 't': rc = gn_config_set(&cfg, "shards", optarg, err, sizeof err); break;
        case 'n': nc = atoi(optarg); break;
        case 'f': filter = optarg; break;
        case 'm': co.backpressure = strcmp(optarg, "drop") ? GN_BACKPRESSURE_BLOCK : GN_BACKPRESSURE_DROP_OLDEST; break;
        case 'r': co.ring_bytes = strtoull(optarg, NULL, 10); break;
        case 's': seconds = atof(optarg); break;
        case 'c': cpu = atoi(optarg); break;
        case 'C': reader_cpu = atoi(optarg); break;
        case 'w': use_wait = true; break;
        case 'S': co.spin_us = atoi(optarg); break;
        case 'L': reader_slice_us = (uint32_t)atoi(optarg); break;
        case 'P': reader_fifo = atoi(optarg); break;
        case 'Y': co.wake = GN_WAKE_NO_YIELD; break;
        case 'I': inline_mode = true; break;
        case 'K': rc = gn_config_set(&cfg, "shard_slice_us", optarg, err, sizeof err); break;
        case 'o': {     /* -o key=value: any configuration key */
            char *eq = strchr(optarg, '=');
            if (!eq)
                return fprintf(stderr, "gnconsume: -o wants key=value, not '%s'\n", optarg), 2;
            *eq = '\0';
            rc = gn_config_set(&cfg, optarg, eq + 1, err, sizeof err);
            break;
        }
        default: return 2;
        }
        if (rc < 0)
            return fprintf(stderr, "gnconsume: %s\n", err), 2;
    }
    if (nc < 1 || nc > MAX_CONSUMERS)
        return fprintf(stderr, "gnconsume: -n 1..%d\n", MAX_CONSUMERS), 2;
    if (reader_cpu < 0)
        reader_cpu = cpu;
    cfg.log_level = GN_LOG_WARN;
    cfg.pin_threads = false;
    co.filter = filter;
    pin(cpu);       /* shard threads inherit the main thread's affinity */
    real_minus_mono = (int64_t)(real_ns() - mono_ns());
    gn_engine *e = gn_engine_create(&cfg, err, sizeof err);
    if (!e)
        return fprintf(stderr, "gnconsume: %s\n", err), 1;
    /* readers: nsh per consumer (-I: one per shard, on that shard's thread;
     * else only the first, on the consumer's thread) */
    int nsh = inline_mode ? (int)cfg.shards : 1;
    reader *rs = calloc((size_t)(nc * nsh), sizeof *rs);
    if (!rs)
        return fprintf(stderr, "gnconsume: out of memory\n"), 1;
    for (int i = 0; i < nc; i++) {
        if (inline_mode) {
            co.on_events = on_events;
            co.on_events_arg = &rs[i * nsh];
        }
        if (!(rs[i * nsh].c = gn_consumer_open(e, &co, err, sizeof err)))
            return fprintf(stderr, "gnconsume: %s\n", err), 1;
    }
    if (gn_engine_start(e, err, sizeof err) < 0)
        return fprintf(stderr, "gnconsume: %s\n", err), 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (int i = 0; !inline_mode && i < nc; i++)
        pthread_create(&rs[i].th, NULL, read_loop, &rs[i]);
    fprintf(stderr, "gnconsume: port %u, %d %sconsumer%s on '%s'\n", gn_engine_port(e), nc,
            inline_mode ? "inline " : "", nc == 1 ? "" : "s", filter);
    uint64_t t0 = mono_ns();
    while (!stop_flag && (seconds <= 0 || (double)(mono_ns() - t0) / 1e9 < seconds)) {
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);
    }
    atomic_store(&quit, 1);     /* seq_cst: readers stop; joined below */
    gn_engine_stats es;
    gn_engine_get_stats(e, &es);
    if (inline_mode)
        gn_engine_stop(e);      /* the shards are the readers: their counts are final after it */
    gl_hist lat, eng, wire;
    memset(&lat, 0, sizeof lat);
    memset(&eng, 0, sizeof eng);
    memset(&wire, 0, sizeof wire);
    uint64_t events = 0, gaps = 0, reorders = 0, dropped = 0, wakeups = 0, yields = 0;
    double rate = 0;
    for (int i = 0; i < nc; i++) {
        reader *ri = &rs[i * nsh];
        if (!inline_mode)
            pthread_join(ri->th, NULL);
        gn_consumer_stats st;
        gn_consumer_get_stats(ri->c, &st);
        dropped += st.dropped;
        wakeups += st.wakeups;
        yields += st.yields;
        uint64_t ev_i = 0, first = UINT64_MAX, last = 0;
        for (int k = 0; k < nsh; k++) {
            reader *r = &ri[k];
            gl_hist_merge(&lat, &r->lat);
            gl_hist_merge(&eng, &r->eng);
            gl_hist_merge(&wire, &r->wire);
            ev_i += r->events;
            gaps += r->gaps;
            reorders += r->reorders;
            if (r->first_ns && r->first_ns < first)
                first = r->first_ns;
            if (r->last_ns > last)
                last = r->last_ns;
        }
        events += ev_i;
        if (first != UINT64_MAX && last > first)
            rate += (double)ev_i / ((double)(last - first) / 1e9) / nc;
    }
    printf("{\"consumers\":%d,\"events\":%llu,\"events_per_s\":%.0f,\"msgs_in\":%llu,"
           "\"lat_p50_us\":%.1f,\"lat_p90_us\":%.1f,\"lat_p99_us\":%.1f,\"lat_max_us\":%.1f,"
           "\"engine_p50_us\":%.1f,\"engine_p99_us\":%.1f,\"engine_max_us\":%.1f,"
           "\"wire_p50_us\":%.1f,\"wire_p99_us\":%.1f,\"wire_max_us\":%.1f,"
           "\"gaps\":%llu,\"reorders\":%llu,\"dropped\":%llu,\"wakeups\":%llu,\"yields\":%llu,"
           "\"spin_us\":%d,\"consumer_slice_us\":%u,\"shard_slice_us\":%u,\"wake_yield\":%s,"
           "\"inline\":%s}\n",
           nc, (unsigned long long)events, rate, (unsigned long long)es.msgs_received,
           gl_hist_quantile(&lat, 0.50) / 1e3, gl_hist_quantile(&lat, 0.90) / 1e3,
           gl_hist_quantile(&lat, 0.99) / 1e3, lat.max / 1e3,
           gl_hist_quantile(&eng, 0.50) / 1e3, gl_hist_quantile(&eng, 0.99) / 1e3, eng.max / 1e3,
           gl_hist_quantile(&wire, 0.50) / 1e3, gl_hist_quantile(&wire, 0.99) / 1e3, wire.max / 1e3,
           (unsigned long long)gaps,
           (unsigned long long)reorders, (unsigned long long)dropped, (unsigned long long)wakeups,
           (unsigned long long)yields,
           (int)co.spin_us, reader_slice_us, cfg.shard_slice_us,
           co.wake == GN_WAKE_YIELD ? "true" : "false", inline_mode ? "true" : "false");
    fflush(stdout);
    gn_engine_stop(e);
    for (int i = 0; i < nc; i++)
        gn_consumer_close(rs[i * nsh].c);
    gn_engine_destroy(e);
    free(rs);
    return 0;
}
