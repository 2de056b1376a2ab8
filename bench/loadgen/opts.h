/* bench/loadgen/opts.h — gnload's command line: the run description every
 * other part of the load generator reads.
 *
 * Parsed once by the main thread before any worker starts; read-only after
 * that, so workers may read it without synchronisation. Strings point into
 * argv (never freed). */
#ifndef GL_OPTS_H
#define GL_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/loadgen/status.h"

typedef enum gl_mode {
    GL_MODE_INGEST,   /* publishers only */
    GL_MODE_FANIN,    /* P publishers -> wildcard subscriber(s) */
    GL_MODE_FANOUT,   /* 1 publisher -> S subscribers */
    GL_MODE_SHARED,   /* publishers -> S members of one $share group */
    GL_MODE_STORM,    /* connect, CONNECT/CONNACK, close, repeat */
    GL_MODE_IDLE,     /* N idle connections; broker RSS per connection */
} gl_mode;

/* Payload layout: run tag | publisher id (u32), sequence (u32), CLOCK_MONOTONIC ns (u64). */
#define GL_PAYLOAD_MIN 16u
#define GL_PUB_ID_BITS 20u                 /* publishers per run: < 2^20 */
#define GL_PUB_ID_MASK ((1u << GL_PUB_ID_BITS) - 1u)

typedef struct gl_opts {
    const char *host;
    uint16_t    port;
    gl_mode     mode;
    uint32_t    pubs;         /* publisher connections */
    uint32_t    subs;         /* subscriber connections */
    uint32_t    conns;        /* idle: connections to open; storm: attempts in flight */
    uint32_t    threads;      /* worker threads (event loops) */
    uint8_t     qos;          /* 0..2, publish and subscription QoS */
    uint32_t    payload;      /* bytes, >= GL_PAYLOAD_MIN */
    double      seconds;      /* send phase length (idle: hold time) */
    uint64_t    count;        /* total messages to send, 0 = until time */
    uint64_t    rate;         /* offered msgs/s over all publishers, 0 = max */
    uint32_t    pace_us;      /* with rate: send period in us (bursts of at most that
                               * much traffic); 0 = 1 ms sleeps, 10 ms burst cap */
    const char *topic;        /* publish topic pattern, "%p" -> publisher index */
    const char *filter;       /* subscription filter (NULL: topic with %p -> '+') */
    const char *client_id;    /* client id pattern, "%p" -> connection index (NULL: gnload-...);
                               * storm: %n / %p attempt, %t run tag, %w worker (NULL: gnload-%t-%n) */
    const char *username;     /* CONNECT user name (NULL: none) */
    const char *password;     /* CONNECT password (NULL: none) */
    const char *sub_client_id;/* subscribers' client id pattern (NULL: as client_id), e.g. the one
                               * id A:org:app every member of a scalable application uses */
    const char *sub_username; /* subscribers' user name (NULL: username) */
    const char *sub_password; /* subscribers' password (NULL: password) */
    uint8_t     protocol;     /* 4 (3.1.1) or 5 */
    pid_t       broker_pid;   /* 0: unknown */
    bool        json;         /* one JSON line instead of text */
    bool        pace_spin;    /* --pace-spin: wait out --pace-us periods on the clock, not asleep */
    uint32_t    window;       /* QoS>0 in-flight ids per publisher */
    double      drain;        /* max seconds to wait for in-flight deliveries */
    uint16_t    keepalive;    /* seconds in CONNECT (pings sent at half of it) */
    double      settle;       /* idle: seconds between last CONNACK and RSS sample */
    double      setup_timeout;/* seconds allowed to connect and subscribe */
    bool        tls;          /* --tls: TLS client (bench/loadgen/tls.c) */
    uint8_t     tls_version;  /* 0: up to 1.3; 12: TLS 1.2 only */
    const char *tls_ca;       /* --cafile: verify the broker; NULL: no verification */
    const char *tls_cert, *tls_key; /* --cert / --key: client certificate */
    bool        ws;           /* --ws: MQTT over WebSockets (bench/loadgen/ws.c) */
    const char *ws_path;      /* --ws-path: upgrade path (/mqtt) */
    const char *credentials;  /* storm: file of "clientid user password" lines (NULL: none) */
    bool        storm_epoll;  /* storm: the epoll loop instead of io_uring chains */
    bool        storm_reuse;  /* storm: io_uring chains keep each slot's socket (disconnect, no close) */
    uint32_t    run_tag;      /* 12-bit tag in every payload (from pid), rejects foreign messages */
} gl_opts;

/* Parse argv into *o (defaults per mode). Prints the problem (or --help) to
 * stderr/stdout. Returns GL_OK, or GL_ERR_USAGE; *help_only is set when
 * --help was given (the caller exits 0). */
gl_status gl_opts_parse(int argc, char **argv, gl_opts *o, bool *help_only);

/* "ingest", "fanin", ... */
const char *gl_mode_name(gl_mode m);

/* Modes whose publishers' messages are counted at subscribers. */
bool gl_mode_has_subs(gl_mode m);

#endif
