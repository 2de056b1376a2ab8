/* tests/consumers/consumer_probe.c — the process the consumer integration
 * tests drive: an embedded engine (gannetd's -p / -t / -c / -o options)
 * plus consumers that write what they read to files in a directory the
 * test watches. A consumer runs on its own thread (gn_consumer_poll /
 * gn_consumer_wait), or with inline=1 it is an inline consumer
 * (gn_consumer_opts.on_events): no thread, the shards call its callback
 * with each batch, on several shards at once, so the callback writes under
 * a mutex.
 *
 *   consumer_probe -d DIR [-p PORT] [-t SHARDS] [-c FILE] [-o KEY=VALUE]...
 *                  -C name=N,filter=F[,mode=block|drop][,group=G][,ring=BYTES][,batch=K]
 *                     [,inline=1]...
 *
 * Per consumer N:
 *   DIR/N.events  one line per event, flushed after each batch:
 *                 shard qos flags client-id topic type id event format payload
 *                 (tab-separated; payload as text, '\n' / '\t' never appear in tests)
 *   DIR/N.stats   "read R events E dropped D oversize O", rewritten every 20 ms
 *                 (by the consumer's thread; for an inline consumer by the main
 *                 loop), and once more at exit
 *   DIR/N.stall   while this file exists the consumer does not poll (a stalled
 *                 pipeline); removing it resumes. Threaded consumers only: an
 *                 inline consumer is not stalled by it (its callback runs on the
 *                 shards; stalling it would stall them). batch= does not apply
 *                 to inline consumers either (the shards size their batches).
 * DIR/publish.cmd  lines "qos<TAB>topic<TAB>payload": the main loop publishes
 *                 them with gn_engine_publish, then writes DIR/publish.done
 *                 with the count and deletes the command file.
 * SIGTERM / SIGINT: stop the engine, close the consumers, exit 0. */
#include <errno.h>
#include <gannet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONS 8

typedef struct probe {
    char             name[64];
    gn_consumer_opts opts;
    gn_consumer     *c;
    uint32_t         batch;
    pthread_t        th;
    char             dir[512];
    bool             inl;        /* inline=1: on_events, no thread */
    /* inline consumers: the callback runs on several shards at once; mu
     * guards out and read_n */
    pthread_mutex_t  mu;
    FILE            *out;
    uint64_t         read_n;
    struct timespec  last_stats; /* main loop only */
} probe;

static volatile sig_atomic_t stop_flag;
static _Atomic int quit;     /* seq_cst: main -> consumer threads */

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_stats(probe *p, uint64_t read_n, const char *path, const char *tmp)
{
    gn_consumer_stats st;
    gn_consumer_get_stats(p->c, &st);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "read %llu events %llu dropped %llu oversize %llu\n", (unsigned long long)read_n,
            (unsigned long long)st.events, (unsigned long long)st.dropped,
            (unsigned long long)st.oversize);
    fclose(f);
    rename(tmp, path);
}

/* Whether 20 ms passed since *last (then *last = now). */
static bool stats_due(struct timespec *last)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - last->tv_sec) * 1000 + (now.tv_nsec - last->tv_nsec) / 1000000 < 20)
        return false;
    *last = now;
    return true;
}

static void stats_paths(const probe *p, char *stats, char *tmp, size_t len)
{
    snprintf(stats, len, "%s/%s.stats", p->dir, p->name);
    snprintf(tmp, len, "%s/%s.stats.tmp", p->dir, p->name);
}

/* One DIR/N.events line per event of the batch; returns the count. */
static uint64_t write_events(FILE *out, gn_batch *b)
{
    uint64_t n = 0;
    for (const gn_event *ev; (ev = gn_batch_next(b)) != NULL; n++)
        fprintf(out, "%u\t%u\t%u\t%s\t%s\t%.*s\t%.*s\t%.*s\t%.*s\t%.*s\n", ev->shard, ev->qos,
                ev->flags, gn_event_client_id(ev), gn_event_topic(ev),
                (int)ev->device_type.len, gn_event_field(ev, ev->device_type),
                (int)ev->device_id.len, gn_event_field(ev, ev->device_id),
                (int)ev->event_id.len, gn_event_field(ev, ev->event_id),
                (int)ev->format.len, gn_event_field(ev, ev->format),
                (int)ev->payload_len, (const char *)gn_event_payload(ev));
    fflush(out);
    return n;
}

/* An inline consumer's on_events, on the thread of the shard that placed
 * the batch; other shards may be in it at the same time. */
static void on_events(void *arg, gn_batch *b)
{
    probe *p = arg;
    pthread_mutex_lock(&p->mu);
    p->read_n += write_events(p->out, b);
    pthread_mutex_unlock(&p->mu);
}

/* The main loop's (and exit's) stats for an inline consumer. */
static void inline_stats(probe *p)
{
    char stats[700], tmp[700];
    stats_paths(p, stats, tmp, sizeof stats);
    pthread_mutex_lock(&p->mu);
    uint64_t read_n = p->read_n;
    pthread_mutex_unlock(&p->mu);
    write_stats(p, read_n, stats, tmp);
}

/* Before gn_consumer_open: the events file, the mutex, the callback. */
static int inline_open(probe *p)
{
    char path[700];
    if (snprintf(path, sizeof path, "%s/%s.events", p->dir, p->name) >= (int)sizeof path)
        return errno = ENAMETOOLONG, -1;
    if (!(p->out = fopen(path, "w")))
        return -1;
    pthread_mutex_init(&p->mu, NULL);
    p->opts.on_events = on_events;
    p->opts.on_events_arg = p;
    return 0;
}

static void *consume(void *arg)
{
    probe *p = arg;
    char path[700], stall[700], stats[700], tmp[700];
    snprintf(path, sizeof path, "%s/%s.events", p->dir, p->name);
    snprintf(stall, sizeof stall, "%s/%s.stall", p->dir, p->name);
    stats_paths(p, stats, tmp, sizeof stats);
    FILE *out = fopen(path, "w");
    if (!out)
        return NULL;
    uint64_t read_n = 0;
    struct timespec last = { 0, 0 };
    while (!atomic_load(&quit)) {
        if (stats_due(&last))
            write_stats(p, read_n, stats, tmp);
        if (exists(stall)) {
            msleep(10);
            continue;
        }
        gn_batch b;
        if (gn_consumer_poll(p->c, &b, p->batch) == 0) {
            gn_consumer_wait(p->c, 20);
            continue;
        }
        read_n += write_events(out, &b);
        gn_consumer_release(p->c, &b);
    }
    write_stats(p, read_n, stats, tmp);
    fclose(out);
    return NULL;
}

/* name=N,filter=F,mode=block|drop,group=G,ring=BYTES,batch=K,inline=0|1
 * (modifies s). */
static int parse_consumer(char *s, probe *p)
{
    memset(p, 0, sizeof *p);
    p->batch = 64;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        char *v = strchr(tok, '=');
        if (!v)
            return -1;
        *v++ = 0;
        if (!strcmp(tok, "name"))
            snprintf(p->name, sizeof p->name, "%s", v);
        else if (!strcmp(tok, "filter"))
            p->opts.filter = v;
        else if (!strcmp(tok, "group"))
            p->opts.group = v;
        else if (!strcmp(tok, "mode"))
            p->opts.backpressure = !strcmp(v, "drop") ? GN_BACKPRESSURE_DROP_OLDEST : GN_BACKPRESSURE_BLOCK;
        else if (!strcmp(tok, "ring"))
            p->opts.ring_bytes = strtoull(v, NULL, 10);
        else if (!strcmp(tok, "batch"))
            p->batch = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(tok, "inline"))
            p->inl = atoi(v) != 0;
        else
            return -1;
    }
    return p->name[0] && p->opts.filter ? 0 : -1;
}

static void run_commands(gn_engine *e, const char *dir)
{
    char cmd[600], taking[600], done[600], tmp[600];
    snprintf(cmd, sizeof cmd, "%s/publish.cmd", dir);
    snprintf(taking, sizeof taking, "%s/publish.taking", dir);
    snprintf(done, sizeof done, "%s/publish.done", dir);
    snprintf(tmp, sizeof tmp, "%s/publish.done.tmp", dir);
    if (rename(cmd, taking) < 0)
        return;
    FILE *f = fopen(taking, "r");
    int ok = 0, bad = 0;
    char line[4096], err[256];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *topic = strchr(line, '\t'), *payload = topic ? strchr(topic + 1, '\t') : NULL;
        if (!payload) {
            bad++;
            continue;
        }
        *topic++ = 0;
        *payload++ = 0;
        if (gn_engine_publish(e, topic, payload, strlen(payload), (uint8_t)atoi(line), false, err,
                              sizeof err) == 0)
            ok++;
        else
            fprintf(stderr, "probe: %s\n", err), bad++;
    }
    if (f)
        fclose(f);
    unlink(taking);
    FILE *d = fopen(tmp, "w");
    if (d) {
        fprintf(d, "ok %d bad %d\n", ok, bad);
        fclose(d);
        rename(tmp, done);
    }
}

int main(int argc, char **argv)
{
    gn_config cfg;
    char err[256];
    const char *dir = NULL;
    probe ps[MAX_CONS];
    int np = 0;
    gn_config_defaults(&cfg);
    for (int o; (o = getopt(argc, argv, "d:p:t:c:o:C:")) != -1;) {
        char *eq;
        int rc = 0;
        switch (o) {
        case 'd': dir = optarg; break;
        case 'p': rc = gn_config_set(&cfg, "port", optarg, err, sizeof err); break;
        case 't': rc = gn_config_set(&cfg, "shards", optarg, err, sizeof err); break;
        case 'c': rc = gn_config_load_file(&cfg, optarg, err, sizeof err); break;
        case 'o':
            if (!(eq = strchr(optarg, '=')))
                return fprintf(stderr, "probe: -o KEY=VALUE\n"), 2;
            *eq = 0;
            rc = gn_config_set(&cfg, optarg, eq + 1, err, sizeof err);
            break;
        case 'C':
            if (np == MAX_CONS || parse_consumer(optarg, &ps[np++]) < 0)
                return fprintf(stderr, "probe: bad -C\n"), 2;
            break;
        default: return 2;
        }
        if (rc < 0)
            return fprintf(stderr, "probe: %s\n", err), 2;
    }
    if (!dir)
        return fprintf(stderr, "probe: -d DIR is required\n"), 2;
    gn_engine *e = gn_engine_create(&cfg, err, sizeof err);
    if (!e)
        return fprintf(stderr, "probe: %s\n", err), 1;
    for (int i = 0; i < np; i++) {
        probe *p = &ps[i];
        snprintf(p->dir, sizeof p->dir, "%s", dir);
        if (p->inl && inline_open(p) < 0)
            return fprintf(stderr, "probe: %s.events: %s\n", p->name, strerror(errno)), 1;
        if (!(ps[i].c = gn_consumer_open(e, &ps[i].opts, err, sizeof err)))
            return fprintf(stderr, "probe: %s\n", err), gn_engine_destroy(e), 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (int i = 0; i < np; i++)
        if (!ps[i].inl)
            pthread_create(&ps[i].th, NULL, consume, &ps[i]);
    if (gn_engine_start(e, err, sizeof err) < 0)
        return fprintf(stderr, "probe: %s\n", err), 1;
    while (!stop_flag) {
        run_commands(e, dir);
        for (int i = 0; i < np; i++)
            if (ps[i].inl && stats_due(&ps[i].last_stats))
                inline_stats(&ps[i]);
        msleep(10);
    }
    gn_engine_stop(e);
    atomic_store(&quit, 1);
    for (int i = 0; i < np; i++) {
        if (ps[i].inl)
            inline_stats(&ps[i]);   /* the shards stopped: no callback runs */
        else
            pthread_join(ps[i].th, NULL);
        gn_consumer_close(ps[i].c);
        if (ps[i].inl) {
            fclose(ps[i].out);
            pthread_mutex_destroy(&ps[i].mu);
        }
    }
    gn_engine_destroy(e);
    return 0;
}
