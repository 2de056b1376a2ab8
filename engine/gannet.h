/* engine/gannet.h — the public API of libgannet, and its documentation:
 * configure, start and stop an in-process Gannet engine; open consumers
 * that read decoded events straight from ring buffers; publish into the
 * engine without a network client. gannetd is a thin user of this header;
 * docs/EMBEDDING.md walks through a complete program.
 *
 * Build against it with pkg-config: `cc app.c $(pkg-config --cflags --libs
 * gannet)` (add --static for libgannet.a). Include it as <gannet.h>; it
 * pulls in engine/config.h (the configuration struct and its file parser)
 * and engine/log.h, installed beside it.
 *
 * Threading: gn_engine_* functions are called from one controlling thread
 * (not from a shard), except where a function says otherwise. The engine's
 * shards are threads the library creates in gn_engine_start and joins in
 * gn_engine_stop. A stopped engine may be started again: it listens on the
 * same port with fresh shards (MQTT sessions and retained messages, kept in
 * memory, ended with the stop); open consumers stay open and keep what their
 * rings hold. A process may also create and destroy engines any number of
 * times. */
#ifndef GANNET_H
#define GANNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"

#define GANNET_VERSION "0.1.0"

typedef struct gn_engine gn_engine;

/* Create an engine from a validated configuration (copied; the caller keeps
 * ownership of cfg). Opens the listening sockets and sets up every shard's
 * io_uring, but runs nothing yet. Returns NULL and writes a one-line reason
 * into err[0..errlen) on failure (port in use, io_uring unavailable, ...). */
gn_engine *gn_engine_create(const gn_config *cfg, char *err, size_t errlen);

/* gn_config_defaults + gn_config_load_file(path) + gn_engine_create. */
gn_engine *gn_engine_create_from_file(const char *path, char *err, size_t errlen);

/* The TCP port the engine listens on (the kernel's choice when the
 * configuration said port 0). */
uint16_t gn_engine_port(const gn_engine *e);

/* Start the shard threads (again, after gn_engine_stop: see above). Returns
 * 0, or -1 with err filled (also when it is already running). */
int gn_engine_start(gn_engine *e, char *err, size_t errlen);

/* Apply the reloadable parts of cfg (limits, log level, auth settings) to a
 * running engine; listeners and shard count need a restart and are reported
 * in err as ignored. Returns 0 when everything reloadable was applied. */
int gn_engine_reload(gn_engine *e, const gn_config *cfg, char *err, size_t errlen);

/* Graceful stop: stop accepting, send MQTT 5 clients DISCONNECT 0x8B
 * (server shutting down), flush what can be flushed within
 * cfg->shutdown_grace_ms, close every connection, join the shards.
 * Safe to call from a signal-handling thread that is not a shard. */
void gn_engine_stop(gn_engine *e);

/* Block the calling thread until the engine has stopped (gn_engine_stop was
 * called, possibly from another thread). */
void gn_engine_wait(gn_engine *e);

/* Free everything. The engine must be stopped (or never started). */
void gn_engine_destroy(gn_engine *e);

/* Authentication hook: decides every CONNECT. Called on the shard thread
 * that owns the client id (so concurrently from several shards), before
 * the session is touched. Returns an MQTT 5 CONNACK reason code: 0 accepts,
 * anything else refuses (MQTT 3.x clients get the closest 3.x return code,
 * e.g. 0x87 -> 5). Strings are not NUL-terminated and valid only during the
 * call. The default hook accepts everyone and says so in the start-up log. */
typedef uint8_t (*gn_auth_fn)(void *ctx, const uint8_t *client_id, size_t cid_len,
                              const uint8_t *user, size_t user_len, bool has_user,
                              const uint8_t *pass, size_t pass_len, bool has_pass);

/* Install the hook before gn_engine_start (NULL restores the default). */
void gn_engine_set_auth(gn_engine *e, gn_auth_fn fn, void *ctx);

/* Counters summed over shards (read without stopping the engine; values
 * are approximate while it runs). */
typedef struct gn_engine_stats {
    uint64_t connections_current;
    uint64_t connections_total;
    uint64_t msgs_received;
    uint64_t msgs_sent;
    uint64_t bytes_received;
    uint64_t bytes_sent;
    uint64_t qos0_dropped;          /* slow-subscriber QoS 0 drops */
    uint64_t protocol_errors;
    uint64_t qos1_dropped_offline;  /* QoS >= 1 refused by an offline session's full queue */
    uint64_t queue_dropped_oldest;  /* platform: oldest dropped from full subscription buffers (S-086) */
} gn_engine_stats;

void gn_engine_get_stats(const gn_engine *e, gn_engine_stats *out);

/* ================================================================ consumers
 *
 * A consumer subscribes to a topic filter (MQTT rules: '+', '#'; e.g. the
 * platform filter "iot-2/type/+/id/+/evt/+/fmt/+") and receives every
 * matching PUBLISH the engine accepts after the open, from MQTT clients,
 * wills and gn_engine_publish (retained messages are not replayed to it),
 * as a gn_event record. Each consumer has one
 * single-producer / single-consumer ring per shard: the shard that received
 * the message writes the record (one copy, no lock, no allocation), the
 * consumer reads it in place and releases the batch. Per publisher, events
 * arrive in the order they were published.
 *
 * Threading: open / close on the controlling thread, before gn_engine_start
 * or while the engine runs. poll / release / wait / get_stats on one
 * consumer thread at a time (any thread, but not concurrently for the same
 * consumer); different consumers are independent. */

typedef struct gn_consumer gn_consumer;

/* Per consumer, chosen at open: what the shards do when its ring is full. */
typedef enum gn_backpressure {
    /* Stop reading the publishers whose messages do not fit (TCP
     * backpressure, as for a slow MQTT subscriber). Nothing is lost; a QoS 1
     * PUBACK / QoS 2 PUBREC is sent only once the record is in the ring. */
    GN_BACKPRESSURE_BLOCK = 0,
    /* Overwrite the oldest records the consumer has not taken yet (or the
     * new one when the consumer's current batch holds them all). Publishers
     * are never slowed; every dropped event is counted (gn_consumer_stats). */
    GN_BACKPRESSURE_DROP_OLDEST = 1,
} gn_backpressure;

/* Per consumer, chosen at open: what a shard does right after it wrote the
 * consumer's eventfd (the consumer was asleep). */
typedef enum gn_wake_policy {
    /* When the consumer thread went to sleep on the CPU the shard runs on,
     * the shard calls sched_yield() at the end of that loop turn, so the
     * woken consumer reads its events now instead of when the shard next
     * blocks (which under load can be many turns later): the consumer runs
     * for microseconds and sleeps again. On another CPU, nothing. */
    GN_WAKE_YIELD = 0,
    /* Never yield: the consumer runs when the scheduler picks it. */
    GN_WAKE_NO_YIELD = 1,
} gn_wake_policy;

typedef struct gn_batch gn_batch;

/* Run-to-completion delivery (gn_consumer_opts.on_events): called on the
 * thread of the shard that placed the events, with a batch of them (read
 * with gn_batch_next, valid until the call returns; the shard releases it). */
typedef void (*gn_events_fn)(void *arg, gn_batch *batch);

typedef struct gn_consumer_opts {
    const char     *filter;       /* topic filter, NUL-terminated (required) */
    const char     *group;        /* NULL: this consumer gets every matching event.
                                     A name: consumers opened with the same group and
                                     filter share the events (each event goes to one
                                     member, round robin, skipping members whose
                                     ring is half full while others are not),
                                     like a $share group */
    gn_backpressure backpressure;
    uint64_t        ring_bytes;   /* per shard; 0 = 4 MiB; rounded up to a power of
                                     two in [64 KiB, 1 GiB]. An event larger than half
                                     of it is not delivered (counted as oversize). */
    int32_t         spin_us;      /* gn_consumer_wait with a timeout first watches the
                                     rings for up to this many microseconds (no
                                     syscall, no sleep) and returns as soon as one is
                                     non-empty; only then it sleeps on the eventfd.
                                     0 = GN_CONSUMER_SPIN_DEFAULT_US, -1 = never spin,
                                     else 1..GN_CONSUMER_SPIN_MAX_US. Spinning uses the
                                     CPU it runs on: on a core shared with the shard it
                                     competes with it. */
    gn_wake_policy  wake;         /* what a shard does after waking this consumer */
    /* NULL: the consumer reads with gn_consumer_poll on a thread of its own.
     * Set: an inline consumer. It has no thread: each shard takes the
     * events it placed in the consumer's ring and calls on_events(arg,
     * batch) on its own thread, at the end of the loop turn in which it
     * placed them (sooner within a busy turn, every 8 KiB of records),
     * then releases them. No eventfd write, no context switch: the lowest
     * latency, for work that takes microseconds per batch (counting,
     * aggregating, handing on to a lock-free queue of the pipeline's).
     * The callback runs on several shards at once (one batch per shard at
     * a time, never two on one shard): state it shares across shards needs
     * its own synchronisation, or keep it per shard (gn_event.shard,
     * gn_batch.ring). While it runs the shard reads no sockets, so a slow
     * callback slows the publishers of that shard (TCP backpressure; with
     * backpressure BLOCK nothing is lost). It may call gn_engine_publish
     * and gn_consumer_get_stats; it must not call gn_consumer_close,
     * gn_engine_stop or gn_engine_destroy (they wait for the shards).
     * gn_consumer_poll returns 0, gn_consumer_wait -1 and gn_consumer_fd
     * -1 for an inline consumer (it has no eventfd); spin_us and wake do
     * not apply. */
    gn_events_fn    on_events;
    void           *on_events_arg;
} gn_consumer_opts;

/* No spin by default: on a core shared with the shard, spinning cost the
 * shard CPU and did not lower the latency tail (docs/PERFORMANCE.md). */
#define GN_CONSUMER_SPIN_DEFAULT_US 0
#define GN_CONSUMER_SPIN_MAX_US     100000

/* An event record, read in place in the ring (valid until the batch is
 * released). Strings are NUL-terminated. */
typedef struct gn_field {
    uint16_t off, len;            /* bytes of the topic; len 0 = absent */
} gn_field;

enum {
    GN_EVENT_RETAIN       = 0x01, /* RETAIN flag as published */
    GN_EVENT_PLATFORM_EVT = 0x02, /* topic is iot-2/type/T/id/I/evt/E/fmt/F */
    GN_EVENT_PLATFORM_CMD = 0x04, /* topic is iot-2/type/T/id/I/cmd/C/fmt/F */
};

typedef struct gn_event {
    uint32_t size;                /* bytes of the whole record (8-aligned) */
    uint32_t payload_len;
    uint16_t topic_len;
    uint16_t client_id_len;       /* 0 for gn_engine_publish and wills */
    uint8_t  qos;                 /* QoS as published */
    uint8_t  flags;               /* GN_EVENT_* */
    uint16_t shard;               /* shard that received it */
    uint64_t received_ns;         /* CLOCK_REALTIME at receipt, nanoseconds */
    /* Decoded platform fields (GN_EVENT_PLATFORM_EVT / _CMD), else len 0:
     * device type, device id, event (or command) id, format. */
    gn_field device_type, device_id, event_id, format;
    char     data[];              /* topic NUL client-id NUL payload */
} gn_event;

static inline const char *gn_event_topic(const gn_event *ev) { return ev->data; }
static inline const char *gn_event_client_id(const gn_event *ev)
{
    return ev->data + ev->topic_len + 1;
}
static inline const uint8_t *gn_event_payload(const gn_event *ev)
{
    return (const uint8_t *)ev->data + ev->topic_len + 1 + ev->client_id_len + 1;
}
/* A platform field's bytes (not NUL-terminated; length f.len). */
static inline const char *gn_event_field(const gn_event *ev, gn_field f)
{
    return ev->data + f.off;
}

/* A batch of records from one shard's ring. Fields are the library's: read
 * the events with gn_batch_next. */
struct gn_batch {
    const uint8_t *buf;
    uint64_t       mask, pos, end;
    uint32_t       ring, count;   /* ring: the shard the events came from;
                                     count: events in the batch */
};

/* Next event of the batch, NULL after the last. */
static inline const gn_event *gn_batch_next(gn_batch *b)
{
    while (b->pos < b->end) {
        const gn_event *ev = (const gn_event *)(const void *)(b->buf + (b->pos & b->mask));
        b->pos += ev->size;
        if (ev->payload_len != UINT32_MAX)    /* else padding to the end of the buffer */
            return ev;
    }
    return NULL;
}

/* Open a consumer. Returns NULL with err filled on a bad filter or group,
 * or out of memory. At most 1024 consumers per engine. */
gn_consumer *gn_consumer_open(gn_engine *e, const gn_consumer_opts *o, char *err, size_t errlen);

/* Unsubscribe, wait until no shard writes to its rings any more (a few
 * milliseconds while the engine runs), free it. Events still in the rings
 * are discarded; publishers paused for it resume. No thread may be polling
 * it or holding one of its batches. */
void gn_consumer_close(gn_consumer *c);

/* Take the next batch (up to max events) from the first non-empty ring,
 * round robin over the shards. Returns the number of events (0: every ring
 * was empty: the consumer may now sleep on its fd). Release the batch
 * before the next poll. Never blocks, never allocates. Always 0 for an
 * inline consumer (gn_consumer_opts.on_events): its shards deliver. */
uint32_t gn_consumer_poll(gn_consumer *c, gn_batch *b, uint32_t max);

/* Give a polled batch back: its ring space is free for new events (and a
 * shard paused by a full ring resumes its publishers). */
void gn_consumer_release(gn_consumer *c, gn_batch *b);

/* An eventfd, readable after a ring went from empty to non-empty: add it to
 * an epoll/io_uring loop, poll until gn_consumer_poll returns 0, read the
 * fd (8 bytes) or call gn_consumer_wait(c, 0), and sleep again. -1 for an
 * inline consumer (gn_consumer_opts.on_events): nothing wakes it. */
int gn_consumer_fd(const gn_consumer *c);

/* Sleep until events may be waiting or timeout_ms passes (-1: forever; 0:
 * only clear the fd). With a timeout other than 0 and the consumer's
 * spin_us (gn_consumer_opts), it first watches the rings for that long and
 * returns 1 as soon as one is non-empty. Returns 1 when woken (or events
 * seen), 0 on timeout, -1 on error. Call it only after gn_consumer_poll
 * returned 0. An inline consumer (gn_consumer_opts.on_events) returns -1. */
int gn_consumer_wait(gn_consumer *c, int timeout_ms);

/* Set the calling thread's CPU time slice under Linux's EEVDF scheduler
 * (Linux >= 6.12, SCHED_OTHER / SCHED_BATCH threads; sched_setattr's
 * sched_runtime). A thread with a short slice that wakes up may preempt a
 * thread running with the default slice (~0.7 ms x (1 + log2 CPUs)) at
 * once instead of waiting for it to block or use its slice up, when it has
 * not had more than its fair share. Meant for a consumer thread sharing a
 * core with the shards; measure before relying on it: on the shared test
 * machine it did not lower the latency tail reliably (docs/PERFORMANCE.md,
 * "Consumers"). The shards' own slice is the configuration key
 * shard_slice_us. slice_us: 0 restores
 * the default, else 100..100000 (the kernel's bounds). Returns 0, or -1
 * with err filled (out of bounds, another scheduling policy, a kernel
 * without per-thread slices). Any thread, about itself. */
int gn_thread_set_slice(uint32_t slice_us, char *err, size_t errlen);

typedef struct gn_consumer_stats {
    uint64_t events;              /* records placed in the rings (drop-oldest: including
                                     those overwritten later, counted in dropped) */
    uint64_t dropped;             /* drop-oldest: events overwritten or refused */
    uint64_t oversize;            /* events larger than half a ring, not delivered */
    uint64_t wakeups;             /* eventfd writes by the shards (a ring went from
                                     empty to non-empty while the consumer had taken
                                     everything): events / wakeups is the batching.
                                     An inline consumer: on_events calls */
    uint64_t yields;              /* of those, wake-ups of a consumer asleep on the
                                     shard's CPU after which the shard yielded
                                     (GN_WAKE_YIELD) */
} gn_consumer_stats;

/* Sums over the consumer's rings. Exact once the events counted were
 * polled; while shards run, each counter is a recent value. */
void gn_consumer_get_stats(const gn_consumer *c, gn_consumer_stats *out);

/* ================================================================ publish */

/* Publish a message into the running engine as if an MQTT client had sent
 * it (no client id): matching MQTT subscribers get it with normal QoS
 * semantics (QoS 1/2 queued for offline persistent sessions, min of
 * published and granted QoS), and matching consumers get an event. Meant
 * for commands to devices, e.g. "iot-2/type/T/id/I/cmd/C/fmt/F". Copies
 * topic and payload; callable from any thread while the engine runs.
 * Messages of one calling thread keep their order.
 * Returns 0 when queued, -1 with err filled: bad topic (wildcards, invalid
 * UTF-8, empty), qos > 2, payload over max_packet_size, engine not
 * running, or too many messages waiting (more than 65536: try again). */
int gn_engine_publish(gn_engine *e, const char *topic, const void *payload, size_t len,
                      uint8_t qos, bool retain, char *err, size_t errlen);

#endif
