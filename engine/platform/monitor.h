/* engine/platform/monitor.h — the monitoring messages (PLATFORM.md S-104 …
 * S-109, S-019; seeds 000/001 "Monitoring messages"): on connect, failed
 * connect and disconnect of a device, gateway or application, a JSON
 * message to iot-2/type/{type}/id/{id}/mon or iot-2/app/{appId}/mon
 * (internal form {org}/iot-2/...), QoS 0, through the engine's routing.
 *
 * Retention: Connect retained; FailedConnect not; a device's Disconnect
 * retained; an application's or Quickstart client's Disconnect goes out not
 * retained and clears the retained message when it was the topic's last
 * connected client (the members of a scalable application share one
 * topic; the count is org-wide, across shards, S-020). A takeover (288) publishes
 * the old connection's Disconnect before the new connection's Connect, so
 * the retained state ends "connected".
 *
 * Restarts: every shard keeps the set of its connected clients in a small
 * append-only file beside the registry ({registry}.mon.{shard}), written
 * once per loop turn (never on the per-message path) and compacted when it
 * grows. The next start publishes a Disconnect for every client the file
 * still holds: CloseCode 93 after a graceful stop (the Disconnects the
 * shutdown published are republished, retained), 92 with a recovery reason
 * after a crash or kill -9.
 *
 * Threading: gn_mon_create / gn_mon_destroy on the controlling thread
 * (before the shards start, after they stopped); every other call on the
 * shard that owns the connection. The first call on any shard publishes
 * the previous run's Disconnects (once, under a mutex) before anything
 * else is published. */
#ifndef GN_PLATFORM_MONITOR_H
#define GN_PLATFORM_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "codec/packet.h"

typedef struct gn_conn gn_conn;
typedef struct gn_shard gn_shard;
typedef struct gn_mon gn_mon;

/* A connection's monitoring state (inside its gn_pconn; zero = none). */
typedef struct gn_pmon {
    uint8_t  state;          /* GN_PMON_* (monitor.c) */
    bool     clears;         /* application / Quickstart: Disconnect clears */
    uint16_t topic_len;      /* internal topic, buf[0..topic_len) */
    uint16_t fields_len;     /* the fixed fields, buf[topic_len + 1 ..) */
    uint32_t serial;         /* its record in the shard's file (0: none) */
    uint32_t rec_len;        /* bytes of that '+' record */
    uint64_t connect_ms;     /* CONNACK time (epoch ms) */
    struct gn_app_count *conns; /* clears: connected clients of its topic (app_counts.c) */
    char    *buf;            /* heap, freed by gn_mon_closed */
} gn_pmon;

/* Engine-wide state for nshards shards; files beside registry_path.
 * NULL on out of memory. */
gn_mon *gn_mon_create(const char *registry_path, uint16_t nshards);
/* Flush the shards' records and mark the files as a graceful stop. */
void gn_mon_destroy(gn_mon *m);

/* CONNECT was judged (close_code 0 accepted, else refused): remember the
 * fields. A client id of no known form (166) has no monitoring topic. */
void gn_mon_attempt(gn_conn *c, const gn_connect *cn, uint16_t close_code);
/* CONNACK 0 was sent: publish Connect (retained), record the client. */
void gn_mon_connected(gn_conn *c);
/* The connection was taken over by a new one with its client id (its close
 * code is set): publish its Disconnect now, before the new Connect. */
void gn_mon_taken_over(gn_conn *c);
/* The connection is released with close code `code`: FailedConnect or
 * Disconnect, unless already published; frees the state. */
void gn_mon_closed(gn_conn *c, uint16_t code);
/* A SUBSCRIBE filter f[0..len) of c (accepted) and the internal filter
 * its retained monitoring messages are looked up with (*out, *out_len,
 * in the shard's inbound topic buffer); false when it gets none. The
 * retained messages take the delivery path of live ones, so a gateway's
 * resource group filters them the same way (S-056). */
bool gn_mon_retained_filter(gn_conn *c, const uint8_t *f, size_t len, const uint8_t **out,
                            size_t *out_len);
/* Once per loop turn (the platform turn): the previous run's Disconnects
 * (first call). */
void gn_mon_turn(gn_shard *s);
/* At the end of every loop turn: write the turn's connected-client
 * records (one write; compacts the file when it grew). */
void gn_mon_flush(gn_shard *s);

#endif
