/* tools/gnrates/main.c — example libgannet consumer: embeds an engine, reads
 * platform events (iot-2/type/T/id/I/evt/E/fmt/F) from a consumer's rings
 * and prints each device type's event rate once a second.
 * Usage: gnrates [-p PORT] [-t SHARDS] [-c CONFIG] [-f FILTER] */
#include <gannet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TYPES 64
static struct { char name[64]; uint64_t n; } types[MAX_TYPES];
static int ntypes;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static void count(const char *t, size_t len)
{
    if (len >= sizeof types[0].name)
        len = sizeof types[0].name - 1;
    for (int i = 0; i < ntypes; i++)
        if (strlen(types[i].name) == len && memcmp(types[i].name, t, len) == 0) {
            types[i].n++;
            return;
        }
    if (ntypes == MAX_TYPES)
        return;
    memcpy(types[ntypes].name, t, len);
    types[ntypes++].n = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    gn_config cfg;
    char err[256];
    const char *filter = "iot-2/type/+/id/+/evt/+/fmt/+";
    gn_config_defaults(&cfg);
    for (int o; (o = getopt(argc, argv, "p:t:c:f:")) != -1;) {
        if ((o == 'c' && gn_config_load_file(&cfg, optarg, err, sizeof err) < 0) ||
            (o == 'p' && gn_config_set(&cfg, "port", optarg, err, sizeof err) < 0) ||
            (o == 't' && gn_config_set(&cfg, "shards", optarg, err, sizeof err) < 0))
            return fprintf(stderr, "gnrates: %s\n", err), 2;
        if (o == 'f')
            filter = optarg;
        if (o == '?')
            return 2;
    }
    gn_engine *e = gn_engine_create(&cfg, err, sizeof err);
    gn_consumer_opts co = { .filter = filter, .backpressure = GN_BACKPRESSURE_DROP_OLDEST };
    gn_consumer *c = e ? gn_consumer_open(e, &co, err, sizeof err) : NULL;
    if (!c || gn_engine_start(e, err, sizeof err) < 0)
        return fprintf(stderr, "gnrates: %s\n", err), gn_engine_destroy(e), 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    double next = now_s() + 1.0;
    while (!stop) {
        gn_batch b;
        if (gn_consumer_poll(c, &b, 256) == 0)
            gn_consumer_wait(c, 100);
        for (const gn_event *ev; (ev = gn_batch_next(&b)) != NULL;)
            if (ev->flags & GN_EVENT_PLATFORM_EVT)
                count(gn_event_field(ev, ev->device_type), ev->device_type.len);
        gn_consumer_release(c, &b);
        if (now_s() >= next) {
            gn_consumer_stats st;
            gn_consumer_get_stats(c, &st);
            for (int i = 0; i < ntypes; i++) {
                printf("%s %llu/s\n", types[i].name, (unsigned long long)types[i].n);
                types[i].n = 0;
            }
            printf("-- total %llu, dropped %llu\n", (unsigned long long)st.events,
                   (unsigned long long)st.dropped);
            fflush(stdout);
            next += 1.0;
        }
    }
    gn_engine_stop(e);
    gn_consumer_close(c);
    gn_engine_destroy(e);
    return 0;
}
