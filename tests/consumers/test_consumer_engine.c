/* tests/consumers/test_consumer_engine.c — Check tests of consumers on a
 * real embedded engine (engine/gannet.h only): MQTT PUBLISHes from TCP
 * clients arrive complete and in order with the decoded platform fields;
 * gn_engine_publish reaches consumers and MQTT subscribers; a consumer
 * closed and another opened while the engine runs; create / start / stop /
 * destroy three times in one process, and one engine started and stopped
 * three times (the ASan build's LeakSanitizer checks nothing leaks). A consumer thread polls while the main thread publishes,
 * so the 'tsan' suite runs the whole consumer path under ThreadSanitizer.
 * Also: gn_engine_publish from two threads keeps each thread's order
 * through the in-process queue's ring (growth and wrap-around while the
 * shard drains it); gn_consumer_wait's spin (spin_us) returns on an event
 * without sleeping and times out without one; spin_us, shard_slice_us and
 * gn_thread_set_slice validate their values; a consumer asleep on its
 * shard's CPU is yielded to (GN_WAKE_YIELD, counted) and never with
 * GN_WAKE_NO_YIELD. Inline consumers (gn_consumer_opts.on_events): four
 * publishers on two shards reach the callback once each, complete, in
 * order, on their shard's thread; poll has nothing and wait refuses
 * (EINVAL); a slow callback on the smallest block-mode ring loses nothing
 * and gets batches cut at the 8 KiB eager point; one stays open across
 * stop / start and the destroy, one is closed while running. */
#include <poll.h>
#include <sched.h>
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <gannet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* ---------------------------------------------------------------- a raw MQTT 3.1.1 client */

/* recv exactly n bytes; retries on EINTR (the sanitizers' and Check's signals). */
static ssize_t recv_all(int fd, uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, b + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int mqtt_connect(uint16_t port, const char *cid)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;        /* a QoS 1 PUBLISH right after QoS 0 ones: no Nagle delay */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    uint8_t b[128];
    size_t cl = strlen(cid), n = 0;
    b[n++] = 0x10;
    b[n++] = (uint8_t)(10 + 2 + cl);
    memcpy(b + n, "\0\4MQTT\4\2\0\36", 10);
    n += 10;
    b[n++] = 0;
    b[n++] = (uint8_t)cl;
    memcpy(b + n, cid, cl);
    n += cl;
    ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
    uint8_t ack[4];
    ck_assert_int_eq(recv_all(fd, ack, 4), 4);
    ck_assert_uint_eq(ack[0], 0x20);
    ck_assert_uint_eq(ack[3], 0);
    return fd;
}

/* Write one PUBLISH of QoS 0 or 1 (pid: the packet id of QoS 1). */
static void mqtt_publish(int fd, uint8_t qos, const char *topic, const void *payload, size_t pl,
                         uint16_t pid)
{
    uint8_t b[2048];
    size_t tl = strlen(topic), rl = 2 + tl + (qos ? 2 : 0) + pl, n = 0;
    ck_assert_uint_lt(rl + 5, sizeof b);
    b[n++] = (uint8_t)(0x30 | qos << 1);
    for (size_t v = rl;; v >>= 7) {         /* remaining length: 7 bits a byte */
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    b[n++] = (uint8_t)(tl >> 8);
    b[n++] = (uint8_t)tl;
    memcpy(b + n, topic, tl);
    n += tl;
    if (qos) {
        b[n++] = (uint8_t)(pid >> 8);
        b[n++] = (uint8_t)pid;
    }
    memcpy(b + n, payload, pl);
    n += pl;
    ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
}

/* PUBLISH QoS 1 and wait for its PUBACK. */
static void mqtt_publish1(int fd, const char *topic, const char *payload, uint16_t pid)
{
    mqtt_publish(fd, 1, topic, payload, strlen(payload), pid);
    uint8_t ack[4];
    ssize_t got = recv_all(fd, ack, 4);
    ck_assert_msg(got == 4, "PUBACK %u: recv %zd (%s)", pid, got, strerror(errno));
    ck_assert_uint_eq(ack[0], 0x40);
    ck_assert_uint_eq((uint16_t)(ack[2] << 8 | ack[3]), pid);
}

/* ---------------------------------------------------------------- a consumer thread */

#define MAX_SEEN 256

typedef struct reader {
    gn_consumer *c;
    _Atomic int  quit;          /* seq_cst: main -> reader */
    _Atomic int  n;             /* seq_cst: events recorded (main polls it) */
    char         topic[MAX_SEEN][96];
    char         payload[MAX_SEEN][32];
    char         cid[MAX_SEEN][32];
    char         type[MAX_SEEN][16];
    char         evt[MAX_SEEN][16];
    uint8_t      flags[MAX_SEEN], qos[MAX_SEEN];
    pthread_t    th;
} reader;

static void copy_field(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

static void *read_loop(void *arg)
{
    reader *r = arg;
    while (!atomic_load(&r->quit)) {
        gn_batch b;
        if (gn_consumer_poll(r->c, &b, 7) == 0) {
            gn_consumer_wait(r->c, 10);
            continue;
        }
        for (const gn_event *ev; (ev = gn_batch_next(&b)) != NULL;) {
            int i = atomic_load(&r->n);
            if (i == MAX_SEEN)
                continue;
            copy_field(r->topic[i], sizeof r->topic[i], gn_event_topic(ev), ev->topic_len);
            copy_field(r->payload[i], sizeof r->payload[i], (const char *)gn_event_payload(ev),
                       ev->payload_len);
            copy_field(r->cid[i], sizeof r->cid[i], gn_event_client_id(ev), ev->client_id_len);
            copy_field(r->type[i], sizeof r->type[i], gn_event_field(ev, ev->device_type),
                       ev->device_type.len);
            copy_field(r->evt[i], sizeof r->evt[i], gn_event_field(ev, ev->event_id), ev->event_id.len);
            r->flags[i] = ev->flags;
            r->qos[i] = ev->qos;
            atomic_store(&r->n, i + 1);
        }
        gn_consumer_release(r->c, &b);
    }
    return NULL;
}

static void reader_start(reader *r, gn_consumer *c)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    pthread_create(&r->th, NULL, read_loop, r);
}

static void reader_stop(reader *r)
{
    atomic_store(&r->quit, 1);
    pthread_join(r->th, NULL);
}

/* Sleeps in 5 ms steps, for up to 10 s, until count(arg) reaches want;
 * returns the last count. */
static int wait_until(int (*count)(void *), void *arg, int want)
{
    int n = count(arg);
    for (int i = 0; i < 2000 && n < want; i++) {
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
        n = count(arg);
    }
    return n;
}

static int reader_count(void *arg)
{
    return atomic_load(&((reader *)arg)->n);
}

static void wait_count(reader *r, int want)
{
    ck_assert_int_eq(wait_until(reader_count, r, want), want);
}

/* A one-shard engine on 127.0.0.1 with one configuration key set. */
static gn_engine *engine_one_shard_with(const char *key, const char *value)
{
    gn_config cfg;
    char err[256];
    gn_config_defaults(&cfg);
    cfg.port = 0;
    cfg.shards = 1;
    strcpy(cfg.listen_address, "127.0.0.1");
    cfg.log_level = GN_LOG_WARN;
    ck_assert_msg(gn_config_set(&cfg, key, value, err, sizeof err) == 0, "%s", err);
    gn_engine *e = gn_engine_create(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    return e;
}

static gn_engine *engine_new(void)
{
    gn_config cfg;
    char err[256];
    gn_config_defaults(&cfg);
    cfg.port = 0;
    cfg.shards = 2;
    cfg.listen_address[0] = 0;
    strcpy(cfg.listen_address, "127.0.0.1");
    cfg.log_level = GN_LOG_WARN;
    gn_engine *e = gn_engine_create(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    return e;
}

static void engine_start(gn_engine *e)
{
    char err[256];
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);
}

static gn_consumer *open_with(gn_engine *e, const gn_consumer_opts *o)
{
    char err[256];
    gn_consumer *c = gn_consumer_open(e, o, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static gn_consumer *open_consumer(gn_engine *e, const char *filter, gn_backpressure bp)
{
    gn_consumer_opts o = { .filter = filter, .backpressure = bp, .ring_bytes = 1 << 16 };
    return open_with(e, &o);
}

/* One full life: events from TCP clients, in-process commands, close and
 * reopen while running, stop, destroy. */
static void one_cycle(int cycle)
{
    char err[256];
    gn_engine *e = engine_new();
    gn_consumer *evts = open_consumer(e, "iot-2/type/+/id/+/evt/+/fmt/+", GN_BACKPRESSURE_BLOCK);
    gn_consumer *all = open_consumer(e, "#", GN_BACKPRESSURE_DROP_OLDEST);
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(gn_engine_start(e, err, sizeof err), -1);    /* already running */
    ck_assert(strstr(err, "already running") != NULL);
    reader re, ra;
    reader_start(&re, evts);
    reader_start(&ra, all);
    uint16_t port = gn_engine_port(e);

    char cid[32], topic[96], payload[32];
    snprintf(cid, sizeof cid, "dev-%d", cycle);
    int fd = mqtt_connect(port, cid);
    for (int i = 0; i < 100; i++) {
        snprintf(topic, sizeof topic, "iot-2/type/%s/id/d%d/evt/status/fmt/json", i % 2 ? "lamp" : "pump", i);
        snprintf(payload, sizeof payload, "{\"seq\":%d}", i);
        mqtt_publish1(fd, topic, payload, (uint16_t)(i + 1));
    }
    mqtt_publish1(fd, "plain/topic", "x", 200);
    wait_count(&re, 100);
    wait_count(&ra, 101);
    for (int i = 0; i < 100; i++) {
        snprintf(payload, sizeof payload, "{\"seq\":%d}", i);
        ck_assert_str_eq(re.payload[i], payload);          /* complete, in order */
        ck_assert_str_eq(re.cid[i], cid);
        ck_assert_str_eq(re.type[i], i % 2 ? "lamp" : "pump");
        ck_assert_str_eq(re.evt[i], "status");
        ck_assert_uint_eq(re.qos[i], 1);
        ck_assert(re.flags[i] & GN_EVENT_PLATFORM_EVT);
    }
    ck_assert_str_eq(ra.topic[100], "plain/topic");
    ck_assert_uint_eq(ra.flags[100] & (GN_EVENT_PLATFORM_EVT | GN_EVENT_PLATFORM_CMD), 0);

    /* In-process commands reach '#' but not the event filter. */
    for (int i = 0; i < 10; i++) {
        snprintf(topic, sizeof topic, "iot-2/type/lamp/id/d%d/cmd/reboot/fmt/json", i);
        ck_assert_msg(gn_engine_publish(e, topic, "{}", 2, 1, false, err, sizeof err) == 0, "%s", err);
    }
    ck_assert_int_eq(gn_engine_publish(e, "bad/+/topic", "", 0, 0, false, err, sizeof err), -1);
    wait_count(&ra, 111);
    ck_assert(ra.flags[101] & GN_EVENT_PLATFORM_CMD);
    ck_assert_str_eq(ra.evt[101], "reboot");
    ck_assert_str_eq(ra.cid[101], "");
    ck_assert_int_eq(atomic_load(&re.n), 100);

    /* Close one consumer while running, open another. */
    reader_stop(&ra);
    gn_consumer_close(all);
    gn_consumer *late = open_consumer(e, "plain/#", GN_BACKPRESSURE_BLOCK);
    reader rl;
    reader_start(&rl, late);
    mqtt_publish1(fd, "plain/again", "y", 201);
    wait_count(&rl, 1);
    ck_assert_str_eq(rl.topic[0], "plain/again");

    gn_consumer_stats st;
    gn_consumer_get_stats(evts, &st);
    ck_assert_uint_eq(st.events, 100);
    ck_assert_uint_eq(st.dropped, 0);
    close(fd);
    gn_engine_stop(e);
    reader_stop(&re);
    reader_stop(&rl);
    gn_consumer_close(evts);        /* `late` is closed by destroy */
    gn_engine_destroy(e);
}

START_TEST(test_lifecycle_three_times)
{
    for (int cycle = 0; cycle < 3; cycle++)
        one_cycle(cycle);
}
END_TEST

/* A publisher that sends QoS 1 PUBLISHes one by one, waiting for each
 * PUBACK, on its own thread (no ck_assert off the main thread). */
typedef struct slow_pub {
    int         fd;
    int         total;
    _Atomic int acked;          /* seq_cst: read by the main thread while it runs */
    pthread_t   th;
} slow_pub;

static void *slow_pub_run(void *arg)
{
    slow_pub *p = arg;
    uint8_t b[300];
    for (int i = 0; i < p->total; i++) {
        size_t n = 0;
        b[n++] = 0x32;
        b[n++] = 2 + 5 + 2 + 100;     /* < 128: a one-byte remaining length */
        b[n++] = 0;
        b[n++] = 5;
        memcpy(b + n, "x/big", 5);
        n += 5;
        b[n++] = (uint8_t)((i + 1) >> 8);
        b[n++] = (uint8_t)(i + 1);
        memset(b + n, 'p', 100);
        n += 100;
        if (write(p->fd, b, n) != (ssize_t)n)
            break;
        uint8_t ack[4];
        if (recv_all(p->fd, ack, 4) != 4 || ack[0] != 0x40)
            break;
        atomic_store(&p->acked, i + 1);
    }
    return NULL;
}

START_TEST(test_close_resumes_paused_publishers)
{
    char err[256];
    gn_engine *e = engine_new();
    gn_consumer *c = open_consumer(e, "x/#", GN_BACKPRESSURE_BLOCK);   /* 64 KiB rings, never read */
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);
    slow_pub p = { .fd = mqtt_connect(gn_engine_port(e), "slow-pub"), .total = 2000 };
    pthread_create(&p.th, NULL, slow_pub_run, &p);
    /* The ring fills and the publisher stops being read: its acks stop. */
    int last = -1;
    for (int i = 0; i < 400; i++) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
        int now = atomic_load(&p.acked);
        if (now == last && now > 0)
            break;
        last = now;
    }
    gn_consumer_stats st;
    gn_consumer_get_stats(c, &st);
    ck_assert_int_lt(atomic_load(&p.acked), p.total);
    ck_assert_uint_eq(st.events, (uint64_t)atomic_load(&p.acked));   /* acked == placed */
    gn_consumer_close(c);           /* the paused publisher resumes */
    pthread_join(p.th, NULL);
    ck_assert_int_eq(atomic_load(&p.acked), p.total);
    close(p.fd);
    gn_engine_stop(e);
    gn_engine_destroy(e);
}
END_TEST

/* One engine started and stopped three times: same port, consumers stay
 * open across the stops, MQTT clients and in-process commands work in every
 * run (and the ASan build checks nothing leaks across the re-arms). */
START_TEST(test_restart_same_engine)
{
    char err[256];
    gn_engine *e = engine_new();
    gn_consumer *c = open_consumer(e, "run/#", GN_BACKPRESSURE_BLOCK);
    reader r;
    reader_start(&r, c);
    uint16_t port = 0;
    for (int run = 0; run < 3; run++) {
        ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "run %d: %s", run, err);
        if (run == 0)
            port = gn_engine_port(e);
        ck_assert_uint_eq(gn_engine_port(e), port);
        char cid[32], topic[64];
        snprintf(cid, sizeof cid, "runner-%d", run);
        int fd = mqtt_connect(port, cid);
        for (int i = 0; i < 20; i++) {
            snprintf(topic, sizeof topic, "run/%d/%d", run, i);
            mqtt_publish1(fd, topic, "m", (uint16_t)(i + 1));
        }
        snprintf(topic, sizeof topic, "run/%d/cmd", run);
        ck_assert_msg(gn_engine_publish(e, topic, "c", 1, 0, false, err, sizeof err) == 0, "%s", err);
        wait_count(&r, 21 * (run + 1));
        close(fd);
        gn_engine_stop(e);
        ck_assert_int_eq(gn_engine_publish(e, topic, "c", 1, 0, false, err, sizeof err), -1);
    }
    /* Each run's 21 events come before the next run's; within a run the
     * network publisher's 20 are in order, and the in-process command (a
     * second publisher, with no order promised against the first: a PUBACK
     * means placed, perhaps in the overflow behind the ring) is among them. */
    for (int run = 0; run < 3; run++) {
        char want[64];
        int next = 0, cmds = 0;
        for (int k = 21 * run; k < 21 * run + 21; k++) {
            snprintf(want, sizeof want, "run/%d/cmd", run);
            if (strcmp(r.topic[k], want) == 0) {
                cmds++;
                continue;
            }
            snprintf(want, sizeof want, "run/%d/%d", run, next++);
            ck_assert_str_eq(r.topic[k], want);
        }
        ck_assert_int_eq(cmds, 1);
    }
    reader_stop(&r);
    gn_engine_destroy(e);       /* closes c */
}
END_TEST

/* ---------------------------------------------------------------- in-process queue */

#define INPROC_PER_THREAD 3000

typedef struct injector {
    gn_engine *e;
    int        id;
    pthread_t  th;
} injector;

static void *inject(void *arg)
{
    injector *in = arg;
    char err[256], topic[32], payload[32];
    snprintf(topic, sizeof topic, "inproc/%d", in->id);
    for (int i = 0; i < INPROC_PER_THREAD;) {
        snprintf(payload, sizeof payload, "%d", i);
        if (gn_engine_publish(in->e, topic, payload, strlen(payload), 0, false, err, sizeof err) == 0) {
            i++;
            continue;
        }
        ck_assert_msg(strstr(err, "try again") != NULL, "%s", err);   /* queue full: retry */
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Reads every event of c, checking that each publisher thread's sequence
 * arrives complete and in order; returns the number of events. */
static int read_inproc(gn_consumer *c, int want)
{
    int next[2] = { 0, 0 }, n = 0;
    for (int idle = 0; n < want && idle < 2000;) {
        gn_batch b;
        if (gn_consumer_poll(c, &b, 64) == 0) {
            idle += gn_consumer_wait(c, 5) == 0;
            continue;
        }
        for (const gn_event *ev; (ev = gn_batch_next(&b)) != NULL; n++) {
            int t = gn_event_topic(ev)[7] - '0';
            ck_assert(t == 0 || t == 1);
            char num[16];
            copy_field(num, sizeof num, (const char *)gn_event_payload(ev), ev->payload_len);
            ck_assert_int_eq(atoi(num), next[t]);
            next[t]++;
        }
        gn_consumer_release(c, &b);
    }
    return n;
}

START_TEST(test_inproc_order_two_threads)
{
    char err[256];
    gn_engine *e = engine_new();
    gn_consumer_opts o = { .filter = "inproc/+", .backpressure = GN_BACKPRESSURE_BLOCK,
                           .ring_bytes = 4u << 20 };
    gn_consumer *c = gn_consumer_open(e, &o, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);
    injector in[2] = { { .e = e, .id = 0 }, { .e = e, .id = 1 } };
    for (int i = 0; i < 2; i++)
        pthread_create(&in[i].th, NULL, inject, &in[i]);
    int got = read_inproc(c, 2 * INPROC_PER_THREAD);
    for (int i = 0; i < 2; i++)
        pthread_join(in[i].th, NULL);
    ck_assert_int_eq(got, 2 * INPROC_PER_THREAD);
    gn_engine_stop(e);
    gn_engine_destroy(e);       /* closes c */
}
END_TEST

/* ---------------------------------------------------------------- spin and slices */

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool fd_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1;
}

typedef struct late_pub {
    gn_engine *e;
    pthread_t  th;
} late_pub;

static void *publish_later(void *arg)
{
    late_pub *lp = arg;
    char err[256];
    struct timespec ts = { 0, 20000000 };      /* 20 ms: the waiter is spinning by then */
    nanosleep(&ts, NULL);
    ck_assert_msg(gn_engine_publish(lp->e, "spin/x", "s", 1, 0, false, err, sizeof err) == 0, "%s", err);
    return NULL;
}

/* One wait with an event published 20 ms in: returns what wait returned;
 * *fd_left: the eventfd was still readable afterwards (the spin saw the
 * event without reading the fd); *ms: how long wait took. */
static int wait_for_late_event(gn_engine *e, gn_consumer *c, bool *fd_left, double *ms)
{
    gn_batch b;
    ck_assert_uint_eq(gn_consumer_poll(c, &b, 8), 0);
    gn_consumer_wait(c, 0);                     /* clear the fd */
    late_pub lp = { .e = e };
    pthread_create(&lp.th, NULL, publish_later, &lp);
    double t0 = mono_ms();
    int r = gn_consumer_wait(c, 5000);
    *ms = mono_ms() - t0;
    pthread_join(lp.th, NULL);
    for (int i = 0; i < 200 && gn_consumer_poll(c, &b, 8) == 0; i++)
        gn_consumer_wait(c, 10);
    ck_assert_uint_eq(b.count, 1);
    ck_assert_str_eq(gn_event_topic(gn_batch_next(&b)), "spin/x");
    gn_consumer_release(c, &b);
    /* the shard writes the fd right after publishing the ring: give it a moment */
    struct timespec ts = { 0, 5000000 };
    nanosleep(&ts, NULL);
    *fd_left = fd_readable(gn_consumer_fd(c));
    return r;
}

START_TEST(test_wait_spin_delivers)
{
    char err[256];
    gn_engine *e = engine_new();
    gn_consumer_opts o = { .filter = "spin/#", .spin_us = 2000000 };
    ck_assert(gn_consumer_open(e, &o, err, sizeof err) == NULL);            /* over the maximum */
    ck_assert(strstr(err, "spin_us") != NULL);
    o.spin_us = -2;
    ck_assert(gn_consumer_open(e, &o, err, sizeof err) == NULL);
    ck_assert(strstr(err, "spin_us") != NULL);
    o.spin_us = GN_CONSUMER_SPIN_MAX_US;        /* 100 ms: longer than the 20 ms wait */
    gn_consumer *spin = gn_consumer_open(e, &o, err, sizeof err);
    ck_assert_msg(spin != NULL, "%s", err);
    o.spin_us = -1;
    o.filter = "spin/+";
    gn_consumer *sleeper = gn_consumer_open(e, &o, err, sizeof err);
    ck_assert_msg(sleeper != NULL, "%s", err);
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);

    bool left;
    double ms;
    ck_assert_int_eq(wait_for_late_event(e, spin, &left, &ms), 1);
    /* it returned from the spin, leaving the fd; unless the 20 ms publish
     * came after the whole 100 ms spin (a loaded machine), then it slept */
    ck_assert_msg(left || ms >= GN_CONSUMER_SPIN_MAX_US / 1000, "the spinning wait read the eventfd "
                  "after %.1f ms", ms);
    gn_consumer_wait(sleeper, 0);
    gn_batch b;
    while (gn_consumer_poll(sleeper, &b, 8))     /* the sleeper got the same event: drop it */
        gn_consumer_release(sleeper, &b);
    ck_assert_int_eq(wait_for_late_event(e, sleeper, &left, &ms), 1);
    ck_assert_msg(!left, "the sleeping wait left the eventfd readable");  /* it slept on the fd */

    /* no event: the spin gives up and the wait times out (30 ms timeout
     * caps the 100 ms spin) */
    gn_consumer_wait(spin, 0);
    while (gn_consumer_poll(spin, &b, 8))
        gn_consumer_release(spin, &b);
    gn_consumer_wait(spin, 0);
    double t0 = mono_ms();
    ck_assert_int_eq(gn_consumer_wait(spin, 30), 0);
    double took = mono_ms() - t0;
    ck_assert_msg(took >= 25 && took < 1000, "timed-out spin took %.1f ms", took);
    gn_engine_stop(e);
    gn_engine_destroy(e);
}
END_TEST

/* A consumer thread pinned to the shard's CPU, reading nq events one by
 * one (the publisher waits for each PUBACK, so the consumer sleeps between
 * them); returns the consumer's stats after all arrived. */
typedef struct pinned_reader {
    gn_consumer *c;
    int          cpu, want;
    _Atomic int  got;            /* seq_cst: reader -> main */
    pthread_t    th;
} pinned_reader;

static void *pinned_read(void *arg)
{
    pinned_reader *pr = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pr->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    for (int idle = 0; atomic_load(&pr->got) < pr->want && idle < 1000;) {
        gn_batch b;
        if (gn_consumer_poll(pr->c, &b, 64) == 0) {
            idle += gn_consumer_wait(pr->c, 10) == 0;
            continue;
        }
        atomic_fetch_add(&pr->got, (int)b.count);
        gn_consumer_release(pr->c, &b);
    }
    return NULL;
}

static gn_consumer_stats run_pinned(gn_wake_policy wake)
{
    char err[256];
    gn_config cfg;
    gn_config_defaults(&cfg);
    cfg.port = 0;
    cfg.shards = 1;
    cfg.pin_threads = true;         /* the shard runs on the first allowed CPU */
    strcpy(cfg.listen_address, "127.0.0.1");
    cfg.log_level = GN_LOG_WARN;
    cpu_set_t allowed;
    ck_assert_int_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &allowed))
        cpu++;
    gn_engine *e = gn_engine_create(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    gn_consumer_opts o = { .filter = "wake/#", .wake = wake };
    gn_consumer *c = gn_consumer_open(e, &o, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);
    pinned_reader pr = { .c = c, .cpu = cpu, .want = 50 };
    pthread_create(&pr.th, NULL, pinned_read, &pr);
    int fd = mqtt_connect(gn_engine_port(e), "waker");
    for (int i = 0; i < pr.want; i++) {
        mqtt_publish1(fd, "wake/x", "w", (uint16_t)(i + 1));
        struct timespec ts = { 0, 1000000 };    /* 1 ms: the reader is asleep again */
        nanosleep(&ts, NULL);
    }
    pthread_join(pr.th, NULL);
    ck_assert_int_eq(atomic_load(&pr.got), pr.want);
    gn_consumer_stats st;
    gn_consumer_get_stats(c, &st);
    close(fd);
    gn_engine_stop(e);
    gn_engine_destroy(e);
    return st;
}

START_TEST(test_wake_yield_on_shared_cpu)
{
    char err[256];
    gn_engine *e = engine_new();
    gn_consumer_opts o = { .filter = "a", .wake = (gn_wake_policy)7 };
    ck_assert(gn_consumer_open(e, &o, err, sizeof err) == NULL);
    ck_assert(strstr(err, "wake policy") != NULL);
    gn_engine_destroy(e);

    gn_consumer_stats y = run_pinned(GN_WAKE_YIELD);
    ck_assert_uint_eq(y.events, 50);
    ck_assert_uint_gt(y.wakeups, 0);
    ck_assert_uint_gt(y.yields, 0);             /* asleep on the shard's CPU: yielded to */
    ck_assert_uint_le(y.yields, y.wakeups);
    gn_consumer_stats n = run_pinned(GN_WAKE_NO_YIELD);
    ck_assert_uint_eq(n.events, 50);
    ck_assert_uint_gt(n.wakeups, 0);
    ck_assert_uint_eq(n.yields, 0);
}
END_TEST

START_TEST(test_slices_validated)
{
    char err[256];
    ck_assert_int_eq(gn_thread_set_slice(50, err, sizeof err), -1);
    ck_assert(strstr(err, "100..100000") != NULL);
    ck_assert_int_eq(gn_thread_set_slice(100001, err, sizeof err), -1);
    int r = gn_thread_set_slice(300, err, sizeof err);
    ck_assert_msg(r == 0 || strstr(err, "per-thread slices") != NULL, "%s", err);
    ck_assert_msg(gn_thread_set_slice(0, err, sizeof err) == 0, "%s", err);   /* back to the default */

    gn_config cfg;
    gn_config_defaults(&cfg);
    ck_assert_int_eq(gn_config_set(&cfg, "shard_slice_us", "100001", err, sizeof err), -1);
    cfg.shard_slice_us = 50;
    ck_assert_int_eq(gn_config_validate(&cfg, err, sizeof err), -1);
    ck_assert(strstr(err, "shard_slice_us") != NULL);
    cfg.shard_slice_us = 0;
    ck_assert_msg(gn_config_validate(&cfg, err, sizeof err) == 0, "%s", err);

    /* an engine whose shards run with a short slice delivers as usual */
    gn_engine *e = engine_one_shard_with("shard_slice_us", "200");
    gn_consumer *c = open_consumer(e, "sliced/#", GN_BACKPRESSURE_BLOCK);
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);
    reader rd;
    reader_start(&rd, c);
    int fd = mqtt_connect(gn_engine_port(e), "sliced-dev");
    mqtt_publish1(fd, "sliced/a", "1", 1);
    wait_count(&rd, 1);
    ck_assert_str_eq(rd.topic[0], "sliced/a");
    close(fd);
    gn_engine_stop(e);
    reader_stop(&rd);
    gn_engine_destroy(e);
}
END_TEST

/* shard_poll_us: bounds; a polling shard delivers in order, still blocks
 * once its poll budget is spent (an idle engine does not spin a core),
 * and stops. */
START_TEST(test_shard_poll_delivers)
{
    char err[256];
    gn_config cfg;
    gn_config_defaults(&cfg);
    ck_assert_int_eq(cfg.shard_poll_us, 0);
    ck_assert_int_eq(gn_config_set(&cfg, "shard_poll_us", "10001", err, sizeof err), -1);
    ck_assert(strstr(err, "shard_poll_us") != NULL);
    gn_engine *e = engine_one_shard_with("shard_poll_us", "1000");
    gn_consumer *c = open_consumer(e, "polled/#", GN_BACKPRESSURE_BLOCK);
    ck_assert_msg(gn_engine_start(e, err, sizeof err) == 0, "%s", err);
    reader rd;
    reader_start(&rd, c);
    int fd = mqtt_connect(gn_engine_port(e), "polled-dev");
    char topic[32];
    for (int i = 0; i < 50; i++) {
        snprintf(topic, sizeof topic, "polled/%d", i);
        mqtt_publish1(fd, topic, "x", 1);
    }
    wait_count(&rd, 50);
    for (int i = 0; i < 50; i++) {
        snprintf(topic, sizeof topic, "polled/%d", i);
        ck_assert_str_eq(rd.topic[i], topic);
    }
    /* idle: each turn polls at most 1 ms before it blocks, so 400 ms of
     * wall time cost far less than 400 ms of CPU */
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    usleep(400000);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu_ms = (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
    ck_assert_msg(cpu_ms < 200.0, "idle polling shard used %.1f ms of CPU in 400 ms", cpu_ms);
    close(fd);
    gn_engine_stop(e);
    reader_stop(&rd);
    gn_engine_destroy(e);
}
END_TEST

START_TEST(test_open_errors)
{
    char err[256];
    gn_engine *e = engine_new();
    gn_consumer_opts o = { .filter = "a/#/b" };
    ck_assert(gn_consumer_open(e, &o, err, sizeof err) == NULL);
    ck_assert(strstr(err, "invalid topic filter") != NULL);
    o.filter = "a/b";
    o.group = "g/1";
    ck_assert(gn_consumer_open(e, &o, err, sizeof err) == NULL);
    ck_assert(strstr(err, "group") != NULL);
    ck_assert_int_eq(gn_engine_publish(e, "a", "", 0, 0, false, err, sizeof err), -1);
    ck_assert(strstr(err, "not running") != NULL);
    gn_engine_destroy(e);
}
END_TEST

/* ---------------------------------------------------------------- inline consumers */

#define SINK_PUBS  4
#define SINK_RINGS 2            /* engine_new's shards */
#define INLINE_FILTER "iot-2/type/inl/id/+/evt/+/fmt/+"

/* What an inline consumer's callback saw. The callback runs on the shard
 * threads, two at once: every field is under mu, and the callback never
 * calls ck_assert (it records the first thing wrong in why, which the test
 * thread checks). */
typedef struct inline_sink {
    pthread_mutex_t mu;
    pthread_t       test_thread;            /* never the callback's */
    int             npubs;
    char            cid[SINK_PUBS][16];     /* the publishers' client ids */
    size_t          pad;                    /* payload bytes after "SEQ;" */
    int             slow_every;             /* the callback sleeps 2 ms every this many events */
    int             events, calls;
    int             next[SINK_PUBS];        /* per publisher: the sequence number due */
    pthread_t       thread[SINK_RINGS];     /* per ring: the shard thread that delivered it */
    bool            seen[SINK_RINGS];
    uint64_t        max_batch, max_record;  /* bytes */
    bool            closed;                 /* stopped or closed: no call may come */
    char            why[256];
} inline_sink;

static uint16_t shard_of(const char *cid)
{
    return (uint16_t)(XXH3_64bits(cid, strlen(cid)) % SINK_RINGS);  /* gn_shard_owner */
}

/* npubs client ids, alternately owned by shard 0 and shard 1 (the engine
 * hands a connection to the shard owning its client id), so both shards
 * call the callback. */
static void sink_init(inline_sink *s, int npubs, size_t pad, int slow_every)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->test_thread = pthread_self();
    s->npubs = npubs;
    s->pad = pad;
    s->slow_every = slow_every;
    for (int p = 0, k = 0; p < npubs; k++) {
        snprintf(s->cid[p], sizeof s->cid[p], "inl-%d", k);
        p += shard_of(s->cid[p]) == p % SINK_RINGS;
    }
}

static void sink_fail(inline_sink *s, const char *fmt, ...)
{
    if (s->why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
}

static bool field_is(const gn_event *ev, gn_field f, const char *want)
{
    return f.len == strlen(want) && memcmp(gn_event_field(ev, f), want, f.len) == 0;
}

/* The topic, client id, platform fields, payload and shard of one event,
 * and its publisher's order. Under s->mu. */
static void sink_check(inline_sink *s, const gn_event *ev, uint32_t ring)
{
    const char *cid = gn_event_client_id(ev);
    int p = 0;
    while (p < s->npubs && strcmp(s->cid[p], cid) != 0)
        p++;
    if (p == s->npubs || ev->client_id_len != strlen(cid)) {
        sink_fail(s, "event %d: client id '%s' (%u bytes)", s->events, cid, ev->client_id_len);
        return;
    }
    char topic[96], evt[8];
    snprintf(evt, sizeof evt, "q%u", ev->qos);
    snprintf(topic, sizeof topic, "iot-2/type/inl/id/%s/evt/%s/fmt/txt", cid, evt);
    if (strcmp(gn_event_topic(ev), topic) != 0 || ev->topic_len != strlen(topic) ||
        !(ev->flags & GN_EVENT_PLATFORM_EVT) || !field_is(ev, ev->device_type, "inl") ||
        !field_is(ev, ev->device_id, cid) || !field_is(ev, ev->event_id, evt) ||
        !field_is(ev, ev->format, "txt"))
        sink_fail(s, "%s: topic '%s' (%u bytes), flags %#x", cid, gn_event_topic(ev), ev->topic_len,
                  ev->flags);
    if (ev->shard != ring || ev->shard != shard_of(cid) || ev->received_ns == 0)
        sink_fail(s, "%s: shard %u in ring %u", cid, ev->shard, ring);
    const char *pl = (const char *)gn_event_payload(ev);
    char head[16];
    int hl = snprintf(head, sizeof head, "%d;", s->next[p]);
    bool ok = ev->payload_len == (uint32_t)hl + s->pad && memcmp(pl, head, (size_t)hl) == 0;
    for (size_t i = 0; ok && i < s->pad; i++)
        ok = pl[hl + (int)i] == 'a' + s->next[p] % 26;
    if (!ok)
        sink_fail(s, "%s: payload '%.12s' (%u bytes), want '%s' + %zu", cid, pl, ev->payload_len, head,
                  s->pad);
    s->next[p]++;
    s->events++;
    if (ev->size > s->max_record)
        s->max_record = ev->size;
}

static void on_inline_events(void *arg, gn_batch *b)
{
    inline_sink *s = arg;
    uint64_t bytes = b->end - b->pos;
    pthread_mutex_lock(&s->mu);
    uint32_t ring = b->ring < SINK_RINGS ? b->ring : 0;
    if (b->ring >= SINK_RINGS)
        sink_fail(s, "batch of ring %u", b->ring);
    if (pthread_equal(pthread_self(), s->test_thread))
        sink_fail(s, "on_events on the test's thread");
    if (s->seen[ring] && !pthread_equal(pthread_self(), s->thread[ring]))
        sink_fail(s, "ring %u delivered by two threads", ring);
    s->thread[ring] = pthread_self();
    s->seen[ring] = true;
    if (s->closed)
        sink_fail(s, "on_events after the stop or close");
    s->calls++;
    if (bytes > s->max_batch)
        s->max_batch = bytes;
    int before = s->events;
    uint32_t n = 0;
    for (const gn_event *ev; (ev = gn_batch_next(b)) != NULL; n++)
        sink_check(s, ev, ring);
    if (n != b->count || n == 0)
        sink_fail(s, "a batch of %u events said %u", n, b->count);
    bool nap = s->slow_every && before / s->slow_every != s->events / s->slow_every;
    pthread_mutex_unlock(&s->mu);
    if (nap) {
        struct timespec ts = { 0, 2000000 };    /* a slow callback: the shard reads nothing */
        nanosleep(&ts, NULL);
    }
}

static int sink_events(void *arg)
{
    inline_sink *s = arg;
    pthread_mutex_lock(&s->mu);
    int n = s->events;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Waits until the callback has want events (and no more), none of them
 * wrong; from now on no call may come. */
static void sink_wait_close(inline_sink *s, int want)
{
    ck_assert_int_eq(wait_until(sink_events, s, want), want);
    pthread_mutex_lock(&s->mu);
    char why[sizeof s->why];
    memcpy(why, s->why, sizeof why);
    s->closed = true;
    pthread_mutex_unlock(&s->mu);
    ck_assert_msg(why[0] == 0, "%s", why);
}

/* Before a restart: calls may come again, from fresh shard threads. */
static void sink_reopen(inline_sink *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = false;
    memset(s->seen, 0, sizeof s->seen);
    pthread_mutex_unlock(&s->mu);
}

static gn_consumer *open_inline(gn_engine *e, inline_sink *s, uint64_t ring_bytes)
{
    gn_consumer_opts o = { .filter = INLINE_FILTER, .backpressure = GN_BACKPRESSURE_BLOCK,
                           .ring_bytes = ring_bytes, .on_events = on_inline_events, .on_events_arg = s };
    return open_with(e, &o);
}

/* An engine (engine_new's two shards) with one inline consumer reporting
 * to s, opened before the start; start_now: started too. */
static gn_engine *inline_engine(inline_sink *s, uint64_t ring_bytes, bool start_now, gn_consumer **c)
{
    gn_engine *e = engine_new();
    *c = open_inline(e, s, ring_bytes);
    if (start_now)
        engine_start(e);
    return e;
}

/* Stops and destroys e (which closes its consumers), then s's mutex. */
static void inline_end(gn_engine *e, inline_sink *s)
{
    gn_engine_stop(e);
    gn_engine_destroy(e);
    pthread_mutex_destroy(&s->mu);
}

/* Publisher p's message seq, in the format sink_check expects. */
static void sink_publish(const inline_sink *s, int fd, int p, int seq, uint8_t qos)
{
    char topic[96], payload[1200];
    snprintf(topic, sizeof topic, "iot-2/type/inl/id/%s/evt/q%u/fmt/txt", s->cid[p], qos);
    int hl = snprintf(payload, sizeof payload, "%d;", seq);
    ck_assert_uint_lt((size_t)hl + s->pad, sizeof payload);
    memset(payload + hl, 'a' + seq % 26, s->pad);
    payload[(size_t)hl + s->pad] = 0;
    if (qos)
        mqtt_publish1(fd, topic, payload, (uint16_t)(seq % 60000 + 1));
    else
        mqtt_publish(fd, 0, topic, payload, (size_t)hl + s->pad, 0);
}

/* The consumer's counters: every event placed once, nothing dropped, one
 * wake-up counted per on_events call. */
static void check_inline_stats(gn_consumer *c, inline_sink *s)
{
    gn_consumer_stats st;
    gn_consumer_get_stats(c, &st);
    pthread_mutex_lock(&s->mu);
    int events = s->events, calls = s->calls;
    pthread_mutex_unlock(&s->mu);
    ck_assert_uint_eq(st.events, (uint64_t)events);
    ck_assert_uint_eq(st.dropped, 0);
    ck_assert_uint_eq(st.oversize, 0);
    ck_assert_uint_eq(st.wakeups, (uint64_t)calls);
    ck_assert_uint_eq(st.yields, 0);
}

/* Four TCP publishers on two shards, 200 QoS 0 then 20 QoS 1 each,
 * interleaved: the callback gets every event once, complete, in each
 * publisher's order, on the thread of the shard owning the publisher (one
 * thread per ring, two rings, never the test's thread). */
START_TEST(test_inline_two_shards)
{
    inline_sink s;
    sink_init(&s, SINK_PUBS, 0, 0);
    gn_consumer *c;
    gn_engine *e = inline_engine(&s, 1 << 16, true, &c);
    int fd[SINK_PUBS];
    for (int p = 0; p < SINK_PUBS; p++)
        fd[p] = mqtt_connect(gn_engine_port(e), s.cid[p]);
    for (int seq = 0; seq < 220; seq++)
        for (int p = 0; p < SINK_PUBS; p++)
            sink_publish(&s, fd[p], p, seq, seq >= 200);
    sink_wait_close(&s, 220 * SINK_PUBS);
    struct timespec ts = { 0, 20000000 };
    nanosleep(&ts, NULL);
    sink_wait_close(&s, 220 * SINK_PUBS);       /* nothing more came (no duplicates) */
    check_inline_stats(c, &s);
    pthread_mutex_lock(&s.mu);
    bool two = s.seen[0] && s.seen[1] && !pthread_equal(s.thread[0], s.thread[1]);
    pthread_mutex_unlock(&s.mu);
    ck_assert_msg(two, "rings 0 and 1 not delivered by two shard threads");
    for (int p = 0; p < SINK_PUBS; p++)
        close(fd[p]);
    inline_end(e, &s);
}
END_TEST

/* poll has nothing to take, there is no fd and wait refuses (EINVAL),
 * before the start and between publishes; meanwhile the callback gets
 * everything. */
static void check_inline_refuses(gn_consumer *c)
{
    gn_batch b;
    memset(&b, 0x5a, sizeof b);
    ck_assert_uint_eq(gn_consumer_poll(c, &b, 64), 0);
    ck_assert_uint_eq(b.count, 0);
    ck_assert_ptr_null(gn_batch_next(&b));
    ck_assert_int_eq(gn_consumer_fd(c), -1);     /* nothing wakes it: no eventfd */
    for (int timeout = 0; timeout <= 20; timeout += 20) {
        errno = 0;
        ck_assert_int_eq(gn_consumer_wait(c, timeout), -1);
        ck_assert_int_eq(errno, EINVAL);
    }
}

START_TEST(test_inline_poll_wait_refused)
{
    inline_sink s;
    sink_init(&s, 1, 0, 0);
    gn_consumer *c;
    gn_engine *e = inline_engine(&s, 1 << 16, false, &c);
    check_inline_refuses(c);
    engine_start(e);
    int fd = mqtt_connect(gn_engine_port(e), s.cid[0]);
    for (int seq = 0; seq < 100; seq++) {
        sink_publish(&s, fd, 0, seq, seq % 10 == 9);
        check_inline_refuses(c);
    }
    sink_wait_close(&s, 100);
    check_inline_stats(c, &s);
    close(fd);
    inline_end(e, &s);
}
END_TEST

/* Block mode, the smallest ring (64 KiB), 2000 events of ~1 KiB (2 MB
 * through it), a callback that sleeps 2 ms every 50 events: nothing lost
 * or reordered, nothing dropped, and each batch is published at the 8 KiB
 * eager point (at most 8 KiB plus a record, plus padding at the ring's end). */
START_TEST(test_inline_slow_block_small_ring)
{
    inline_sink s;
    sink_init(&s, 1, 1000, 50);
    gn_consumer *c;
    gn_engine *e = inline_engine(&s, 64 << 10, true, &c);
    int fd = mqtt_connect(gn_engine_port(e), s.cid[0]);
    for (int seq = 0; seq < 2000; seq++)
        sink_publish(&s, fd, 0, seq, seq == 1999);      /* the last one's PUBACK: all placed */
    sink_wait_close(&s, 2000);
    check_inline_stats(c, &s);
    pthread_mutex_lock(&s.mu);
    uint64_t batch = s.max_batch, rec = s.max_record;
    pthread_mutex_unlock(&s.mu);
    ck_assert_msg(batch < 8192 + 2 * rec, "a batch of %llu bytes (records up to %llu)",
                  (unsigned long long)batch, (unsigned long long)rec);
    close(fd);
    inline_end(e, &s);
}
END_TEST

/* Publishes n QoS 1 messages (each PUBACKed) from publisher 0, from seq on,
 * and waits until the callback has them all (then no call may come). */
static void inline_run(gn_engine *e, inline_sink *s, int seq, int n)
{
    int fd = mqtt_connect(gn_engine_port(e), s->cid[0]);
    for (int i = 0; i < n; i++)
        sink_publish(s, fd, 0, seq + i, 1);
    sink_wait_close(s, seq + n);
    close(fd);
}

/* An inline consumer open across stop / start / stop and the destroy, and
 * one closed while its engine runs: the callback gets each run's events,
 * in order, and none after a stop or the close; LeakSanitizer (ASan build)
 * checks nothing leaks. */
START_TEST(test_inline_stop_restart_close)
{
    inline_sink s;
    sink_init(&s, 1, 0, 0);
    gn_consumer *c;
    gn_engine *e = inline_engine(&s, 1 << 16, false, &c);
    for (int run = 0; run < 2; run++) {
        engine_start(e);
        inline_run(e, &s, 30 * run, 30);
        gn_engine_stop(e);
        check_inline_stats(c, &s);
        sink_reopen(&s);
    }
    gn_engine_destroy(e);       /* closes c, open across both stops */
    pthread_mutex_destroy(&s.mu);

    sink_init(&s, 1, 0, 0);
    e = inline_engine(&s, 1 << 16, true, &c);
    inline_run(e, &s, 0, 10);
    gn_consumer_close(c);
    int fd = mqtt_connect(gn_engine_port(e), s.cid[0]);
    for (int seq = 10; seq < 20; seq++)
        sink_publish(&s, fd, 0, seq, 1);       /* PUBACKed, placed nowhere: the consumer is gone */
    struct timespec ts = { 0, 20000000 };
    nanosleep(&ts, NULL);
    sink_wait_close(&s, 10);                   /* still 10, and no call after the close */
    close(fd);
    inline_end(e, &s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("consumer_engine");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_lifecycle_three_times);
    tcase_add_test(tc, test_close_resumes_paused_publishers);
    tcase_add_test(tc, test_restart_same_engine);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_inproc_order_two_threads);
    tcase_add_test(tc, test_wait_spin_delivers);
    tcase_add_test(tc, test_slices_validated);
    tcase_add_test(tc, test_shard_poll_delivers);
    tcase_add_test(tc, test_wake_yield_on_shared_cpu);
    tcase_add_test(tc, test_inline_two_shards);
    tcase_add_test(tc, test_inline_poll_wait_refused);
    tcase_add_test(tc, test_inline_slow_block_small_ring);
    tcase_add_test(tc, test_inline_stop_restart_close);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);     /* LeakSanitizer sees the whole process */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
