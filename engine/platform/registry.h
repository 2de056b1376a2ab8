/* engine/platform/registry.h — the platform registry as the engine reads it:
 * organisations, device types, devices and gateways, API keys, resource
 * groups and per-org settings, held in an immutable in-memory snapshot
 * that a registry thread swaps when the store (SQLite, registry_store.c)
 * changes. Also: token verification with a per-shard verified-token cache,
 * the revocation log (what was disabled or removed since a generation) and
 * the asynchronous auto-registration queue of gateways (S-058..S-060).
 *
 * ---------------------------------------------------------------- threads
 * - gn_registry_open / gn_registry_start / gn_registry_stop /
 *   gn_registry_close: the controlling thread (gn_engine_create/stop), one
 *   at a time. start creates the registry thread; stop joins it.
 * - gn_registry_snapshot: any thread. It is one acquire load: no lock, no
 *   atomic read-modify-write, no allocation.
 * - Every gn_reg_* lookup on a snapshot: any thread, lock-free, no
 *   allocation, no system call (a plain hash probe over immutable memory).
 * - gn_reg_verifier_*: one verifier per thread (a shard owns one); it is
 *   not shared. Checking a token allocates nothing.
 * - gn_registry_port_create: the controlling thread (ports are added
 *   without a lock; the registry thread may already run).
 * - gn_registry_autoreg_*: the thread that owns the gn_reg_port (a shard).
 * - gn_registry_refresh: any thread (serialised with the registry thread).
 *
 * ------------------------------------------------------ snapshot lifetime
 * A snapshot and every record reached from it are immutable. The registry
 * thread builds the next snapshot (patching only the hash segments that
 * changed: the others are shared with the previous snapshot), publishes it
 * with a store-release and retires the old one through a QSBR domain:
 * - in gannetd, the router's domain (gn_registry_opts.defer =
 *   gn_router_defer_free): a shard already reports a quiescent state every
 *   loop turn (gn_route_quiescent) and goes offline before it blocks, so a
 *   pointer a shard got from gn_registry_snapshot, and every record pointer
 *   it looked up in it, stays valid until that shard's next quiescent
 *   state, i.e. for the rest of the current loop turn. Never keep one
 *   across turns: keep the identity (org/type/id bytes, or rec->uid) and
 *   look it up again in the next turn's snapshot.
 * - standalone (opts.defer == NULL: tools, tests): the registry makes its
 *   own gn_qsbr domain (gn_registry_qsbr); readers register with it and
 *   report quiescent states themselves.
 * A thread that is not a QSBR reader must not call gn_registry_snapshot
 * while the registry thread runs (nothing would hold the snapshot alive).
 *
 * ------------------------------------------------------------- ownership
 * gn_registry_close frees the registry, the current snapshot and every
 * port. Records, strings and snapshots are owned by the registry. Strings
 * in records are NUL-terminated and also carry their length.
 *
 * ---------------------------------------------------------------- errors
 * Functions that can fail return gn_reg_err (0 = GN_REG_OK);
 * gn_reg_strerror names every value. */
#ifndef GN_ENGINE_PLATFORM_REGISTRY_H
#define GN_ENGINE_PLATFORM_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/qsbr.h"

/* Where gannetd and gannetctl look for the database unless told otherwise. */
#define GN_REGISTRY_DEFAULT_PATH "/var/lib/gannet/registry.db"

#define GN_REG_ORG_LEN        6     /* org ids are exactly 6 chars [a-z0-9] (S-012) */
#define GN_REG_ORG_MAX        10    /* longest org id: "quickstart" */
#define GN_REG_QUICKSTART     "quickstart"
#define GN_REG_ID_MAX         36    /* typeId, deviceId, appId: 1..36 of [A-Za-z0-9_.-] (S-013) */
#define GN_REG_APIKEY_LEN     19    /* "a-" org(6) "-" 10 chars (S-027) */
#define GN_REG_TOKEN_MIN      8     /* user-supplied token length (S-025) */
#define GN_REG_TOKEN_MAX      36
#define GN_REG_TOKEN_GEN_LEN  18    /* generated tokens (S-025) */
#define GN_REG_GROUP_NAME_MAX 80    /* a gateway's default group is "gw:{type}:{id}" */
#define GN_REG_MAX_GROUPS     10    /* groups per device and per gateway (S-100) */
#define GN_REG_SALT_LEN       16
#define GN_REG_HASH_LEN       32    /* SHA-256 output */
#define GN_REG_AUTOREG_MAX_PENDING 128  /* S-059 */

typedef enum gn_reg_err {
    GN_REG_OK = 0,
    GN_REG_ERR_NOMEM,          /* allocation failed */
    GN_REG_ERR_INVALID,        /* an argument breaks the syntax (org id, type, id, token, key) */
    GN_REG_ERR_NOT_FOUND,      /* no such org / type / device / key / group */
    GN_REG_ERR_EXISTS,         /* already registered */
    GN_REG_ERR_DISABLED,       /* the record (or its org / type) is disabled */
    GN_REG_ERR_DENIED,         /* the token or key does not match, or the role forbids */
    GN_REG_ERR_LIMIT,          /* a per-org / per-gateway / per-group limit (S-059, S-100) */
    GN_REG_ERR_BUSY,           /* queue full (128 pending auto-registrations, S-059) */
    GN_REG_ERR_NOT_PRIVILEGED, /* a standard gateway may not auto-register (S-057) */
    GN_REG_ERR_RETRY_LATER,    /* a recent failure for this device is cached (S-060) */
    GN_REG_ERR_TOO_OLD,        /* the revocation log no longer covers that generation */
    GN_REG_ERR_STORE,          /* SQLite error (message in the log / err buffer) */
    GN_REG_ERR_SCHEMA,         /* the database has a newer or unknown schema version */
    GN_REG_ERR_STATE,          /* call not allowed now (not started, stopped, ...) */
    GN_REG_ERR__COUNT
} gn_reg_err;

/* Static, never NULL. */
const char *gn_reg_strerror(gn_reg_err err);

/* ------------------------------------------------------------ records */

typedef enum gn_reg_status {
    GN_REG_ENABLED = 1,
    GN_REG_DISABLED = 0,       /* S-034: refused at CONNECT, disconnected at once */
} gn_reg_status;

typedef enum gn_reg_class {
    GN_REG_DEVICE = 'd',
    GN_REG_GATEWAY = 'g',
} gn_reg_class;

typedef enum gn_reg_gw_role {
    GN_REG_GW_PRIVILEGED = 0,  /* default: may auto-register (S-057) */
    GN_REG_GW_STANDARD = 1,
} gn_reg_gw_role;

/* TLS / authentication policy of an org or a device type (S-035),
 * enforced at CONNECT (engine/platform/tls_policy.c). A type's policy,
 * when set, replaces its org's for the devices and gateways of the type. */
typedef enum gn_reg_tls_policy {
    GN_REG_TLS_OPTIONAL = 0,          /* plain 1883 allowed (Quickstart, S-004) */
    GN_REG_TLS_TOKEN = 1,             /* TLS with token: the default for an org (S-003) */
    GN_REG_TLS_CERT = 2,
    GN_REG_TLS_TOKEN_AND_CERT = 3,
    GN_REG_TLS_CERT_OR_TOKEN = 4,
    GN_REG_TLS_INHERIT = 0xff,        /* parse result "org": a type without its own policy */
} gn_reg_tls_policy;

/* Plan: selects the default limits of a new org (S-094, S-095, S-100). */
typedef enum gn_reg_plan {
    GN_REG_PLAN_STANDARD = 0,
    GN_REG_PLAN_LITE = 1,
} gn_reg_plan;

/* How an org limits the rate of what its clients send (docs/PLATFORM.md
 * "Rate limits and throttling"): Watson pacing by message units per
 * second (S-094 ... S-097, the rate_*_in settings), Ioto throttling by
 * messages per device per hour (S-135 ... S-141, throttle_*), or none. */
typedef enum gn_reg_rate_model {
    GN_REG_RATE_WATSON = 0,
    GN_REG_RATE_IOTO = 1,
    GN_REG_RATE_OFF = 2,
} gn_reg_rate_model;

/* API key permissions (S-071; the action bits of AMLEN-TR). */
enum {
    GN_REG_PERM_EVENT_SEND  = 1u << 0,  /* publish events as a device (S-068) */
    GN_REG_PERM_EVENT_RECV  = 1u << 1,  /* subscribe to events */
    GN_REG_PERM_CMD_SEND    = 1u << 2,  /* publish commands */
    GN_REG_PERM_CMD_RECV    = 1u << 3,  /* subscribe to commands */
    GN_REG_PERM_DM_PROTOCOL = 1u << 4,  /* device-management protocol topics */
    GN_REG_PERM_DM_STATUS   = 1u << 5,  /* monitoring / status topics (mon) */
    GN_REG_PERM_ALL         = 0x3fu,    /* the "standard application" role */
};

/* A rate: messages per second and bytes per second; 0 = unlimited. */
typedef struct gn_reg_rate {
    uint32_t msgs_per_s;
    uint32_t bytes_per_s;
} gn_reg_rate;

/* An org's IP access list (S-038): a blacklist or a whitelist, never
 * both, of CIDR prefixes and country codes. IPv4 prefixes are kept as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n) so one matcher serves both
 * families; prefixes and countries are sorted and without duplicates.
 * Fixed size: no allocation in the snapshot, nothing to free. Checked on
 * CONNECT (and for connected clients when the list changes). */
#define GN_REG_IPACL_MAX 32
#define GN_REG_IPACL_CC_MAX 64
#define GN_REG_IPACL_TEXT_MAX (8 + GN_REG_IPACL_MAX * 44 + GN_REG_IPACL_CC_MAX * 3)  /* "white:" + list */
typedef enum gn_reg_ipacl_mode {
    GN_REG_IPACL_NONE = 0,
    GN_REG_IPACL_BLACK = 1,          /* refuse addresses in the list */
    GN_REG_IPACL_WHITE = 2,          /* refuse addresses not in the list */
} gn_reg_ipacl_mode;
typedef struct gn_reg_prefix {
    uint8_t addr[16];                /* network byte order, host bits zero */
    uint8_t bits;                    /* 0..128 */
} gn_reg_prefix;
typedef struct gn_reg_ipacl {
    uint8_t mode;                    /* gn_reg_ipacl_mode */
    uint8_t n;                       /* prefixes in p */
    uint8_t ncc;                     /* country codes in cc */
    gn_reg_prefix p[GN_REG_IPACL_MAX];
    char    cc[GN_REG_IPACL_CC_MAX][2]; /* ISO 3166 alpha-2, upper case, no NUL */
} gn_reg_ipacl;

/* Parse "black:ENTRY[,ENTRY...]", "white:ENTRY[,...]" or "" / "none" (no
 * list). An ENTRY is an IPv4 or IPv6 address with an optional /bits
 * (default: the whole address) or a two-letter country code (any case;
 * kept upper case). GN_REG_ERR_INVALID with a reason in err on bad
 * syntax, an unknown mode, an empty list or more than GN_REG_IPACL_MAX
 * prefixes or GN_REG_IPACL_CC_MAX countries; *out is untouched then. Any
 * thread. */
gn_reg_err gn_reg_ipacl_parse(const char *text, gn_reg_ipacl *out, char *err, size_t errlen);
/* The canonical text form (what parse accepts; "none" when no list):
 * prefixes first, then countries. */
void gn_reg_ipacl_format(const gn_reg_ipacl *acl, char *out, size_t len);
/* Does the list let addr in? addr: 16 bytes, IPv4 as IPv4-mapped IPv6;
 * country: the address's two-letter code, NULL when unknown (listed in no
 * country: a blacklist lets it in, a whitelist only by prefix). No
 * allocation; any thread. */
bool gn_reg_ipacl_allows(const gn_reg_ipacl *acl, const uint8_t addr[16], const char *country);

/* One "addr[/bits]" of length n into *p (host bits must be zero); false
 * with a reason in err otherwise. Any thread. */
bool gn_reg_prefix_parse(const char *s, size_t n, gn_reg_prefix *p, char *err, size_t errlen);
/* Is a (16 bytes) inside prefix p? */
bool gn_reg_prefix_has(const gn_reg_prefix *p, const uint8_t a[16]);
/* Is s[0..n) a two-letter country code? Writes it upper case to out[2]. */
bool gn_reg_country_parse(const char *s, size_t n, char out[2]);

/* Everything the rules need of an org. Defaults (standard plan) in
 * brackets; Lite values in docs/REGISTRY.md. 0 means "no limit" for every
 * count below. */
typedef struct gn_reg_org_settings {
    bool     allow_anonymous;        /* [no]; quickstart: yes (S-032) */
    bool     allow_durable;          /* cleansession=0 allowed [yes]; quickstart: no (S-033) */
    bool     allow_retain;           /* [no] (S-079): the rules clear the flag */
    bool     allow_sys_topics;       /* $SYS topics [no] (S-050) */
    bool     allow_shared_subs;      /* $SharedSubscription / $share [no] (S-050) */
    uint8_t  max_qos;                /* [2]; quickstart: 0 (S-082, S-083) */
    uint8_t  tls_policy;             /* gn_reg_tls_policy [TOKEN]; quickstart OPTIONAL */
    uint8_t  plan;                   /* gn_reg_plan [STANDARD] */
    uint32_t max_connections;        /* concurrent connections of the org; over -> 173 [0] */
    uint32_t max_devices;            /* registered devices [1000000] (S-100) */
    uint32_t max_device_types;       /* [1000] (S-100) */
    uint32_t max_api_keys;           /* [2000] (S-100) */
    uint32_t max_group_devices;      /* devices per resource group [300] (S-100) */
    uint32_t max_shared_apps;        /* A: shared subscriptions [10] (S-100) */
    uint32_t max_shared_instances;   /* instances per A: app [50] (S-100) */
    uint32_t max_subs_device;        /* subscriptions per device connection [50] (S-092) */
    uint32_t max_subs_app;           /* per application connection [500] (S-092) */
    uint32_t queue_depth_device;     /* per device subscription [50] (S-087) */
    uint32_t queue_depth_app;        /* per application subscription [5000] (S-086) */
    uint32_t inflight_device;        /* inbound QoS>=1 in flight [10] (S-090) */
    uint32_t inflight_gateway;       /* [1000] */
    uint32_t inflight_app;           /* [2000] */
    uint32_t new_conns_per_s;        /* new device connections per second [300] (S-095) */
    uint32_t max_devices_online;     /* concurrent devices [500000] (S-095) */
    uint32_t gw_max_pending_autoreg; /* pending auto-registrations per gateway [10] (S-059) */
    uint32_t gw_max_devices;         /* devices a gateway may auto-register [500] (S-059) */
    gn_reg_rate rate_device_in;      /* device -> cloud [10 msg/s, 40960 B/s] (S-094) */
    gn_reg_rate rate_gateway_in;     /* [100, 409600] */
    gn_reg_rate rate_app_in;         /* [20, 81920] */
    gn_reg_rate rate_org_in;         /* [6000 msg/s, 0] */
    gn_reg_rate rate_device_out;     /* cloud -> device [2, 8192] (S-095) */
    gn_reg_rate rate_gateway_out;    /* [20, 81920] */
    gn_reg_rate rate_app_out;        /* [20, 81920] */
    gn_reg_rate rate_org_out;        /* [12000, 0] */
    gn_reg_ipacl ip_acl;             /* setting "ip_acl" [none] (S-038) */
    uint8_t  rate_model;             /* gn_reg_rate_model [WATSON] */
    uint32_t throttle_limit;         /* Ioto: 1 KB messages per device per hour [60] (S-137) */
    uint32_t throttle_release_after; /* Ioto: consecutive throttled measurements before the
                                        device is released, 0 = never [10] (S-140) */
} gn_reg_org_settings;

/* A stored credential: salted hash of a token (S-026). Opaque to callers;
 * only gn_reg_verifier_check reads it. */
typedef struct gn_reg_cred {
    uint8_t  algo;                   /* GN_REG_HASH_* (registry_hash.h) */
    uint8_t  _pad[3];
    uint32_t iterations;
    uint8_t  salt[GN_REG_SALT_LEN];
    uint8_t  hash[GN_REG_HASH_LEN];
} gn_reg_cred;

typedef struct gn_reg_org {
    uint64_t uid;                    /* stable id (database row id; quickstart has its own) */
    char     id[GN_REG_ORG_MAX + 1];
    uint8_t  id_len;
    uint8_t  status;                 /* gn_reg_status */
    bool     quickstart;             /* the built-in "quickstart" org (S-110..S-113) */
    uint64_t ca_version;             /* changes with the org's CA set (S-036; 0: none) */
    char     name[64];               /* display name, may be "" */
    gn_reg_org_settings s;
} gn_reg_org;

/* Per-device-type overrides of its org's rate settings for the devices and
 * gateways of the type; 0 = the org's (docs/PLATFORM.md "Rate limits and
 * throttling"). */
typedef struct gn_reg_type_settings {
    uint32_t rate_in_msgs;           /* Watson pacing: messages per second (S-094) */
    uint32_t rate_in_bytes;          /* bytes per second (with rate_in_msgs: the unit, S-097) */
    uint32_t throttle_limit;         /* Ioto: 1 KB messages per device per hour (S-137) */
} gn_reg_type_settings;

typedef struct gn_reg_type {
    uint64_t uid;
    char     org[GN_REG_ORG_MAX + 1];
    char     id[GN_REG_ID_MAX + 1];
    uint8_t  org_len, id_len;
    uint8_t  status;                 /* a disabled type disables all its devices */
    uint8_t  cls;                    /* gn_reg_class the type was created for */
    bool     has_tls_policy;         /* false: the org's policy applies (S-035) */
    uint8_t  tls_policy;             /* gn_reg_tls_policy when has_tls_policy */
    gn_reg_type_settings s;          /* store_type_settings.c */
} gn_reg_type;

/* A device or a gateway (the same namespace: (org, typeId, deviceId) is
 * unique, S-017). */
typedef struct gn_reg_device {
    uint64_t uid;
    char     org[GN_REG_ORG_MAX + 1];
    char     type[GN_REG_ID_MAX + 1];
    char     id[GN_REG_ID_MAX + 1];
    uint8_t  org_len, type_len, id_len;
    uint8_t  cls;                    /* gn_reg_class */
    uint8_t  status;                 /* own status; see gn_reg_device_usable */
    uint8_t  gw_role;                /* gateways: gn_reg_gw_role */
    uint8_t  ngroups;                /* groups this device is a member of */
    uint8_t  gw_ngroups;             /* gateways: groups it is attached to (0 = whole org, S-056) */
    bool     has_token;              /* false: no token set (cannot log in with use-token-auth) */
    uint32_t groups[GN_REG_MAX_GROUPS];    /* group uids (low 32 bits are unique) */
    uint32_t gw_groups[GN_REG_MAX_GROUPS]; /* gateways only */
    uint32_t gw_default_group;       /* gateways: where auto-registered devices go (0 = none) */
    uint64_t registered_by;          /* uid of the gateway that auto-registered it, or 0 */
    gn_reg_cred cred;
} gn_reg_device;

typedef struct gn_reg_apikey {
    uint64_t uid;
    char     key[GN_REG_APIKEY_LEN + 1];
    char     org[GN_REG_ORG_MAX + 1];
    uint8_t  key_len, org_len;
    uint8_t  status;
    uint32_t perms;                  /* GN_REG_PERM_* */
    char     description[64];
    gn_reg_cred cred;
} gn_reg_apikey;

/* ----------------------------------------------------------- snapshots */

typedef struct gn_reg_snapshot gn_reg_snapshot;

/* Monotonic generation of a snapshot (every swap increments it). */
uint64_t gn_reg_generation(const gn_reg_snapshot *s);

/* Lookups. Byte strings need not be NUL-terminated. NULL when absent.
 * The org lookup also finds "quickstart" (rec->quickstart). */
const gn_reg_org *gn_reg_find_org(const gn_reg_snapshot *s, const char *org, size_t org_len);
const gn_reg_type *gn_reg_find_type(const gn_reg_snapshot *s, const char *org, size_t org_len,
                                    const char *type, size_t type_len);
const gn_reg_device *gn_reg_find_device(const gn_reg_snapshot *s, const char *org, size_t org_len,
                                        const char *type, size_t type_len,
                                        const char *id, size_t id_len);
const gn_reg_apikey *gn_reg_find_apikey(const gn_reg_snapshot *s, const char *key, size_t key_len);

/* Is a device usable (own status, its type's and its org's status all
 * enabled)? GN_REG_OK, GN_REG_ERR_DISABLED or GN_REG_ERR_NOT_FOUND. */
gn_reg_err gn_reg_device_usable(const gn_reg_snapshot *s, const gn_reg_device *d);

/* May gateway gw act for the device (type, id) of its own org (S-056)?
 * - GN_REG_OK: the device is gw itself, gw has no groups (whole org), or
 *   the device is a member of one of gw's groups;
 * - GN_REG_ERR_DENIED: registered but outside gw's groups (RC 180, S-061);
 * - GN_REG_ERR_DISABLED: registered and in reach but disabled (S-034, S-064);
 * - GN_REG_ERR_NOT_FOUND: not registered: a privileged gateway may ask for
 *   auto-registration (gn_registry_autoreg_submit), a standard one may not.
 * *dev (may be NULL) receives the device record when registered. */
gn_reg_err gn_reg_gateway_may_act(const gn_reg_snapshot *s, const gn_reg_device *gw,
                                  const char *type, size_t type_len,
                                  const char *id, size_t id_len, const gn_reg_device **dev);

/* Revocation log: visit every identity disabled or removed (device or
 * gateway, device type, API key, org) in generations (since_gen, current].
 * A shard remembers the generation it last checked and, when
 * gn_reg_generation changed, disconnects the clients the visitor names.
 * GN_REG_ERR_TOO_OLD when the log no longer reaches back to since_gen
 * (then recheck every connection with the find functions). The callback
 * runs on the caller's thread; strings are valid for the call.
 * An ORG entry means every client of that org, a TYPE entry every device
 * and gateway of that type; a DEVICE entry one device or gateway, an
 * APIKEY entry every application that logged in with that key. Entries
 * come oldest first; one identity may appear more than once. */
typedef enum gn_reg_kind {
    GN_REG_KIND_ORG = 'o',
    GN_REG_KIND_TYPE = 't',
    GN_REG_KIND_DEVICE = 'd',        /* devices and gateways */
    GN_REG_KIND_APIKEY = 'k',
} gn_reg_kind;

typedef struct gn_reg_revoked {
    uint64_t generation;             /* the snapshot that first showed it */
    uint8_t  kind;                   /* gn_reg_kind */
    bool     removed;                /* true: removed; false: disabled */
    bool     ip_list;                /* ORG only: not revoked, but its IP list changed and
                                        connected clients' addresses need a recheck (S-038) */
    bool     tls;                    /* ORG / TYPE: not revoked, but its TLS policy or the
                                        org's CAs changed: recheck connected clients (S-035) */
    /* ORG: org; TYPE: org, type; DEVICE: org, type, id; APIKEY: key (in id) */
    const char *org, *type, *id;
    uint8_t  org_len, type_len, id_len;
} gn_reg_revoked;

typedef void (*gn_reg_revoked_fn)(void *ctx, const gn_reg_revoked *r);
gn_reg_err gn_reg_revoked_since(const gn_reg_snapshot *s, uint64_t since_gen,
                                gn_reg_revoked_fn fn, void *ctx);

/* Counts in a snapshot (stats, tests). */
typedef struct gn_reg_counts {
    uint64_t orgs, types, devices, gateways, apikeys, groups;
} gn_reg_counts;
void gn_reg_get_counts(const gn_reg_snapshot *s, gn_reg_counts *out);

/* ---------------------------------------------------- token verification */

typedef struct gn_reg_verifier gn_reg_verifier;

/* A per-thread verifier with a cache of cache_entries (rounded up to a
 * power of two; 0 = no cache) recently verified (record, token) pairs.
 * The cache keeps a keyed 128-bit digest (process-random key) of the
 * token next to the record's stored hash; an entry matches only while the
 * record's credential is unchanged, so rotating a token invalidates it.
 * NULL on allocation failure. */
gn_reg_verifier *gn_reg_verifier_create(uint32_t cache_entries);
void gn_reg_verifier_destroy(gn_reg_verifier *v);

/* Does token (password bytes) match the credential? GN_REG_OK or
 * GN_REG_ERR_DENIED (also for a record without a token). Constant-time
 * comparison; no allocation. */
gn_reg_err gn_reg_verifier_check(gn_reg_verifier *v, const gn_reg_cred *cred,
                                 const uint8_t *token, size_t token_len);

typedef struct gn_reg_verifier_stats {
    uint64_t checks, cache_hits, hashes, denied;
} gn_reg_verifier_stats;
void gn_reg_verifier_get_stats(const gn_reg_verifier *v, gn_reg_verifier_stats *out);

/* ------------------------------------------------------------ registry */

typedef struct gn_registry gn_registry;

typedef struct gn_registry_opts {
    const char *path;                /* database file; created (with its directory) on first open */
    uint32_t poll_interval_ms;       /* registry thread: look for store changes [100] */
    uint32_t autoreg_retry_ms;       /* S-060: a failed auto-registration is not retried [600000] */
    uint32_t max_ports;              /* gn_reg_port handles (one per shard) [256] */
    /* Reclamation of retired snapshots. gannetd: gn_router_defer_free and
     * gn_router_reclaim on its router. NULL: the registry makes its own
     * QSBR domain (gn_registry_qsbr). */
    void   (*defer)(void *ctx, gn_qsbr_free_fn fn, void *fctx, void *ptr);
    void   (*reclaim)(void *ctx);    /* run pending frees (never blocks); may be NULL */
    void    *reclaim_ctx;
    /* PEM file of global trust anchors put into every org's CA store
     * (gannetd: tls_ca_file); NULL / "" for none. */
    const char *ca_file;
} gn_registry_opts;

/* Fill opts with the defaults above (path = GN_REGISTRY_DEFAULT_PATH). */
void gn_registry_opts_default(gn_registry_opts *opts);

/* Open (create on first use) the store at opts->path, check/upgrade the
 * schema and build the first snapshot. path == NULL or "" gives a
 * registry without a store: only the quickstart org, never changing.
 * NULL on failure with err filled. */
gn_registry *gn_registry_open(const gn_registry_opts *opts, char *err, size_t errlen);

/* Start / stop the registry thread (poll the store, patch and swap
 * snapshots, serve auto-registration). start twice = GN_REG_ERR_STATE. */
gn_reg_err gn_registry_start(gn_registry *r, char *err, size_t errlen);
void gn_registry_stop(gn_registry *r);
/* Stop if running, free everything. No reader may still use a snapshot. */
void gn_registry_close(gn_registry *r);

/* The current snapshot (acquire load). Never NULL after open. */
const gn_reg_snapshot *gn_registry_snapshot(const gn_registry *r);

/* The registry's own QSBR domain when opts.defer was NULL, else NULL. */
gn_qsbr *gn_registry_qsbr(gn_registry *r);

/* The orgs' CA trust stores (engine/platform/reg_trust.h), rebuilt when
 * org_cas changes; NULL without a store. Same lifetime rule as the
 * snapshot (valid until the reader's next quiescent state). */
struct gn_reg_trust;
const struct gn_reg_trust *gn_registry_trust(const gn_registry *r);

/* Look at the store now (what the thread does every poll interval):
 * patch and swap the snapshot if something changed. Returns OK when
 * nothing changed or the swap succeeded. Never waits for readers; any
 * thread (it serialises with the registry thread on an internal mutex). */
gn_reg_err gn_registry_refresh(gn_registry *r);

typedef struct gn_registry_stats {
    uint64_t generation;
    uint64_t swaps;                  /* snapshots published */
    uint64_t full_builds;            /* snapshots built from scratch */
    uint64_t last_build_us;          /* duration of the last full build */
    uint64_t last_patch_us;          /* duration of the last incremental patch */
    uint64_t store_errors;
    uint64_t autoreg_ok, autoreg_failed, autoreg_busy;
    uint64_t trust_builds;           /* org CA trust stores rebuilt (S-036) */
    uint64_t ca_skipped;             /* org_cas rows of the last build that did not parse */
} gn_registry_stats;
void gn_registry_get_stats(gn_registry *r, gn_registry_stats *out);

/* ---------------------------------------------------- auto-registration */

/* A port connects one shard to the registry thread: an SPSC request ring
 * (shard -> registry) and an SPSC result ring (registry -> shard). */
typedef struct gn_reg_port gn_reg_port;

/* Called on the registry thread after results were pushed to the port, so
 * the engine can wake the shard (e.g. a transport wake). May be NULL: the
 * shard then sees results at its next gn_registry_autoreg_poll. */
typedef void (*gn_reg_notify_fn)(void *ctx);

/* Create a port (controlling thread, before or after start).
 * NULL when max_ports are in use or on allocation failure. */
gn_reg_port *gn_registry_port_create(gn_registry *r, gn_reg_notify_fn notify, void *ctx);

typedef struct gn_reg_autoreg_result {
    uint64_t    cookie;              /* what the shard gave to submit */
    gn_reg_err  err;                 /* OK (registered or already existed), LIMIT, INVALID,
                                        NOT_PRIVILEGED, DISABLED, RETRY_LATER, STORE, ... */
    uint64_t    device_uid;          /* when OK */
    uint64_t    generation;          /* OK: the first snapshot generation that holds the device */
} gn_reg_autoreg_result;

/* Ask for (type, id) to be registered in the org of gateway gw, into its
 * default group (S-057, S-058). Never blocks. GN_REG_OK: queued, a result
 * with this cookie will arrive; GN_REG_ERR_BUSY: 128 requests are pending
 * in the whole registry (S-059: the caller delays or drops and notifies);
 * GN_REG_ERR_NOT_PRIVILEGED, GN_REG_ERR_INVALID (bad type / id syntax):
 * refused at once, nothing queued. The per-gateway pending limit
 * (gw_max_pending_autoreg) is the caller's to count (a gateway lives on
 * one shard). Port owner thread only. */
gn_reg_err gn_registry_autoreg_submit(gn_reg_port *p, const gn_reg_device *gw,
                                      const char *type, size_t type_len,
                                      const char *id, size_t id_len, uint64_t cookie);

/* Take up to max results (port owner thread). Returns how many. */
uint32_t gn_registry_autoreg_poll(gn_reg_port *p, gn_reg_autoreg_result *out, uint32_t max);

/* ------------------------------------------------------- write side */
/* Records are written through engine/platform/registry_store.h (gannetctl,
 * tests); a running registry sees the change at its next poll (or at once
 * with gn_registry_refresh). The engine never writes except through
 * gn_registry_autoreg_submit. */

/* Fill a credential for token (fresh random salt, the default algorithm
 * and cost). GN_REG_ERR_INVALID for a token outside 1..GN_REG_TOKEN_MAX. */
gn_reg_err gn_reg_cred_make(gn_reg_cred *out, const uint8_t *token, size_t token_len);

#endif
