/* engine/platform/platform_int.h — what the platform rule files share: the
 * engine-wide gn_platform, the per-shard gn_pshard, the per-org
 * connection counters (limits.c) and the gateway notification (notify.c).
 *
 * Threading: gn_platform fields are written by the controlling thread
 * before the shards start (reloadable limits live in gn_config); a
 * gn_pshard belongs to its shard; the org counters are shared (atomics). */
#ifndef GN_PLATFORM_PLATFORM_INT_H
#define GN_PLATFORM_PLATFORM_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/platform/directory.h"
#include "engine/platform/geoip.h"
#include "engine/platform/platform.h"
#include "engine/platform/topics.h"

#define GN_ORG_SLOTS 4096       /* orgs with a connection count (power of two) */

/* What an org slot counts. */
typedef enum gn_org_count {
    GN_ORG_CONNS,               /* every connection of the org (173, max_connections) */
    GN_ORG_DEVICES,             /* connected devices and gateways (173, max_devices_online, S-095) */
    GN_ORG_COUNTS
} gn_org_count;

typedef struct gn_org_slot {
    _Atomic uint32_t used;      /* release: name written before; acquire on lookup */
    /* relaxed: counts compared with a limit at CONNECT, by gn_org_count */
    _Atomic uint32_t count[GN_ORG_COUNTS];
    char             org[GN_PLAT_ORG_MAX + 1];
} gn_org_slot;

#define GN_APP_COUNT_SLOTS 16384 /* keyed counters of app_counts.c (power of two) */

/* One org-wide counter of app_counts.c, keyed by a hash of a tagged name. */
typedef struct gn_app_count {
    _Atomic uint64_t key;       /* relaxed: 0 free, claimed once by CAS, never freed */
    _Atomic uint32_t n;         /* relaxed: a count compared with a limit */
    _Atomic uint32_t busy;      /* acquire / release: serialises a monitoring topic's retained updates */
} gn_app_count;

/* An auto-registration in flight: whose result it is (autoreg.c). */
typedef struct gn_areg_out {
    uint64_t cookie, sid;
} gn_areg_out;

typedef struct gn_pshard {
    gn_pdir_shard *dir;
    gn_areg_out   *areg_out;        /* requests in flight from this shard's gateways */
    uint32_t       nareg_out, careg_out;
    uint64_t       next_cookie;
    char          *topic_in;        /* GN_PLAT_TOPIC_BUF: inbound internal topics / filters */
    char          *topic_out;       /* GN_PLAT_TOPIC_BUF: the topic a client is sent */
    uint64_t       auth_window_ms;  /* start of the current 176 window */
    uint64_t       auth_hashes_at;  /* hash count at the window's start */
    uint64_t       rate_gen;        /* registry generation the rate limits were read at (rate.c) */
} gn_pshard;

struct gn_platform {
    gn_pdir        *dir;
    uint16_t        nshards;
    gn_pshard      *shards;
    gn_mon         *mon;            /* monitoring messages (monitor.c) */
    gn_geo         *geo;            /* peer address -> country (S-038, geoip.c) */
    pthread_mutex_t org_mu;         /* serialises inserts into orgs[] */
    gn_org_slot     orgs[GN_ORG_SLOTS];
    gn_app_count    counts[GN_APP_COUNT_SLOTS];     /* app_counts.c */
};

/* ---- limits.c */
/* The org's counter slot (created on first use); UINT32_MAX when full. */
uint32_t gn_plat_org_slot(gn_platform *p, const char *org, size_t len);
/* Take one of what `what` counts for the org if below limit (0 = none);
 * release it with gn_plat_org_release when the connection ends. Any shard. */
bool gn_plat_org_take(gn_platform *p, uint32_t slot, gn_org_count what, uint32_t limit);
void gn_plat_org_release(gn_platform *p, uint32_t slot, gn_org_count what);
/* The lower of two limits where 0 means none. */
uint32_t gn_plat_min_limit(uint32_t a, uint32_t b);
/* Open connections of the whole server (every shard). */
uint64_t gn_plat_server_conns(const gn_shard *s);

/* ---- app_counts.c (any shard; lock-free but for gn_plat_count_lock) */
/* Tags of the counted names. */
#define GN_COUNT_MEMBERS 'M'    /* (org, app): connected A members (S-100 instances) */
#define GN_COUNT_GROUPS  'G'    /* (org, ""): A shared groups with a member (S-100) */
#define GN_COUNT_GROUP   'S'    /* (group filter, ""): members of one group */
#define GN_COUNT_MON     'T'    /* (monitoring topic, ""): connected clients (S-105) */
/* The counter of name (tag, a, b), created on first use; NULL when the
 * table is full (callers then do not count: no limit, no retention count). */
gn_app_count *gn_plat_count(gn_platform *p, char tag, const char *a, size_t al, const char *b,
                            size_t bl);
/* Add one if below limit (0 = none); false when at the limit. NULL: true. */
bool gn_plat_count_take(gn_app_count *e, uint32_t limit);
/* Remove one; returns the count left (0 for NULL). */
uint32_t gn_plat_count_release(gn_app_count *e);
/* One more member of the set counted by ref; the first takes one unit of
 * total (below limit) and false means it could not. gn_plat_count_leave
 * undoes it; the last to leave gives the unit back. */
bool gn_plat_count_join(gn_app_count *ref, gn_app_count *total, uint32_t limit);
void gn_plat_count_leave(gn_app_count *ref, gn_app_count *total);
/* A short critical section on e (a spin flag; NULL: none). */
void gn_plat_count_lock(gn_app_count *e);
void gn_plat_count_unlock(gn_app_count *e);

/* ---- rate.c: rate limits (Watson pacing, Ioto throttling) */
/* Set c's rate limits from its org's settings (at CONNECT, and on change). */
void gn_plat_rate_apply(gn_conn *c, const gn_pdir_org *org);
/* Re-read every connected client's limits when the registry changed. */
void gn_plat_rate_refresh(gn_shard *s);
/* c's platform state is going: free its throttle state. */
void gn_plat_rate_release(gn_conn *c);
/* Is f[0..len) a device's subscription to its own throttle topic
 * (ioto/device/{id}/mqtt/throttle, …/mqtt/+, …/mqtt/#, …/#) in an Ioto
 * org? Then out holds the internal filter (S-138). */
bool gn_plat_throttle_filter(const gn_pconn *pc, const uint8_t *f, size_t len, char *out,
                             size_t cap, size_t *out_len);

/* ---- autoreg.c: a gateway's auto-registrations (S-058 … S-060) */
typedef struct gn_pareg gn_pareg;
typedef enum { GN_PAREG_HOLD, GN_PAREG_DENIED } gn_pareg_verdict;
/* Gateway c publishes for m's device, registered nowhere yet and c may
 * register it: HOLD (its registration is pending: wait) or DENIED with
 * the close code and reason to notify (the pending limit, a failure). */
gn_pareg_verdict gn_plat_autoreg_need(gn_conn *c, const gn_ptopic_match *m, uint16_t *rc,
                                      const char **why);
/* Registration results for this shard's gateways: resume those waiting. */
void gn_plat_autoreg_results(gn_shard *s);
/* Free a connection's table (its close). */
void gn_plat_autoreg_free(gn_pconn *pc);

/* ---- notify.c */
/* Publish a gateway notification (S-062, S-063) to the gateway's own
 * notify topic: request "Publish" / "Subscribe" / "Unsubscribe", the
 * request topic, the device it named (may be NULL), rc and message. */
void gn_plat_notify(gn_conn *c, const char *request, const uint8_t *topic, size_t topic_len,
                    const gn_ptopic_match *m, uint16_t rc, const char *message);

/* Publish a message of the platform itself (notification, monitoring) to
 * internal topic t[0..tl) at QoS 0 through the normal routing; retained
 * when `retain`. */
void gn_plat_publish(gn_shard *s, const char *t, size_t tl, const char *payload, size_t n,
                     bool retain);
/* The message gn_plat_publish routes (one reference, NULL on out of memory). */
struct gn_msg;
struct gn_msg *gn_plat_msg(gn_shard *s, const char *t, size_t tl, const char *payload, size_t n,
                           bool retain);

/* The shard's platform state. */
gn_pshard *gn_plat_shard(const gn_shard *s);

/* The peer's country for the org lists (S-038): looked up once per
 * connection and kept in pc; NULL when unknown. Shard thread. */
const char *gn_plat_peer_country(const gn_shard *s, gn_pconn *pc);

/* engine/platform/tls_policy.c: the TLS policy (the type's, else the
 * org's) for a CONNECT (S-003, S-004, S-035 ... S-037). close_code 0: go
 * on; authenticate with the token unless cert_proven (a verified client
 * certificate named this client id) and !need_token. Otherwise refuse
 * with close_code / why (CONNACK 5). recheck: a connected client whose
 * policy or CAs changed (the certificate is always verified again).
 * Shard thread. */
typedef struct gn_ptls_verdict {
    uint16_t    close_code;
    const char *why;
    bool        cert_proven;
    bool        need_token;
} gn_ptls_verdict;
gn_ptls_verdict gn_plat_tls_check(gn_conn *c, const gn_pident *id, const gn_pdir_org *org,
                                  bool recheck);

#endif
