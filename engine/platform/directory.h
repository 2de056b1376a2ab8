/* engine/platform/directory.h — the platform rules' narrow view of the
 * registry (engine/platform/registry.h, built on the registry branch): org
 * policy, device / gateway / API-key authentication, "may this gateway act
 * for that device", asynchronous auto-registration and the revocation
 * feed. It exists so the rules (and the engine headers they include) do
 * not include registry.h, whose gn_registry type is unrelated to the
 * shard's client-id table of the same name, and so the rules see only
 * what they use.
 *
 * Threading: gn_pdir_open / start / close on the controlling thread. Every
 * gn_pdir_shard_* call on the thread of the shard that owns that
 * gn_pdir_shard (one per shard); results that point into the registry are
 * copied, so nothing outlives a loop turn. */
#ifndef GN_PLATFORM_DIRECTORY_H
#define GN_PLATFORM_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gn_pdir gn_pdir;
typedef struct gn_pdir_shard gn_pdir_shard;

/* An org's policy as the rules use it (copied from the snapshot). */
typedef struct gn_pdir_org {
    bool     enabled;
    bool     quickstart;
    bool     allow_anonymous;
    bool     allow_durable;
    bool     allow_retain;
    uint8_t  max_qos;
    uint32_t max_connections;        /* 0 = none (173) */
    uint32_t max_devices_online;     /* connected devices and gateways, 0 = none (173, S-095) */
    uint32_t max_subs_device, max_subs_app;       /* 0 = none (154) */
    uint32_t queue_depth_device, queue_depth_app; /* 0 = engine default */
    uint32_t inflight_device, inflight_gateway, inflight_app;
    uint8_t  ip_acl_mode;            /* GN_PDIR_IPACL_* (S-038) */
    bool     ip_acl_countries;       /* the list names countries: look the peer's up */
    uint32_t gw_max_pending_autoreg; /* per gateway, 0 = none (S-059) */
    uint8_t  tls_policy;             /* gn_reg_tls_policy (S-003, S-035) */
    /* rate limits (docs/PLATFORM.md "Rate limits and throttling") */
    uint8_t  rate_model;             /* GN_PDIR_RATE_* */
    uint32_t rate_device_msgs, rate_device_bytes;     /* per second, 0 msgs = none (S-094) */
    uint32_t rate_gateway_msgs, rate_gateway_bytes;
    uint32_t rate_app_msgs, rate_app_bytes;
    uint32_t throttle_limit;         /* Ioto: 1 KB messages per device per hour, 0 = none */
    uint32_t throttle_release_after; /* Ioto: 0 = never */
} gn_pdir_org;
enum { GN_PDIR_RATE_WATSON = 0, GN_PDIR_RATE_IOTO = 1, GN_PDIR_RATE_OFF = 2 };  /* = gn_reg_rate_model */
enum {  /* = gn_reg_tls_policy */
    GN_PDIR_TLS_OPTIONAL = 0, GN_PDIR_TLS_TOKEN = 1, GN_PDIR_TLS_CERT = 2,
    GN_PDIR_TLS_TOKEN_AND_CERT = 3, GN_PDIR_TLS_CERT_OR_TOKEN = 4,
};
enum { GN_PDIR_IPACL_NONE = 0, GN_PDIR_IPACL_BLACK = 1, GN_PDIR_IPACL_WHITE = 2 };  /* = gn_reg_ipacl_mode */

typedef enum gn_pdir_result {
    GN_PDIR_OK = 0,
    GN_PDIR_NOT_FOUND,      /* no such org / device / key */
    GN_PDIR_DISABLED,       /* the record, its type or its org is disabled */
    GN_PDIR_DENIED,         /* token does not match; gateway outside its groups */
    GN_PDIR_WRONG_CLASS,    /* a device's record is a gateway or the other way round */
    GN_PDIR_NOT_PRIVILEGED, /* a standard gateway may not auto-register */
    GN_PDIR_BUSY,           /* auto-registration queue full */
    GN_PDIR_LIMIT,          /* a per-org / per-gateway limit */
    GN_PDIR_RETRY_LATER,    /* a recent auto-registration failure is cached (S-060) */
    GN_PDIR_ERROR,          /* store or internal error */
} gn_pdir_result;

/* What the engine lends the registry: reclamation of retired snapshots
 * through the router's QSBR domain (shards are its readers), and a wake-up
 * of shard i when auto-registration results are waiting for it. */
typedef struct gn_pdir_hooks {
    void  *ctx;
    void (*defer)(void *ctx, void (*fn)(void *fctx, void *ptr), void *fctx, void *ptr);
    void (*reclaim)(void *ctx);
    void (*wake)(void *ctx, uint16_t shard);
    /* registry_* config keys */
    uint32_t poll_interval_ms;      /* store polling [100] */
    uint32_t token_cache;           /* verified tokens remembered per shard [4096] */
    uint32_t autoreg_retry_ms;      /* a failed auto-registration is not retried [600000] */
    const char *tls_ca_file;        /* global trust anchors in every org's CA store (S-036) */
} gn_pdir_hooks;

/* Open the registry at path (created on first use) and start its thread.
 * NULL with err filled on failure. nshards: one gn_pdir_shard each. */
gn_pdir *gn_pdir_open(const char *path, uint16_t nshards, const gn_pdir_hooks *hooks,
                      char *err, size_t errlen);
void gn_pdir_close(gn_pdir *d);
/* The state of shard i (created by open). */
gn_pdir_shard *gn_pdir_shard_of(gn_pdir *d, uint16_t i);

/* Generation of the registry snapshot the shard sees (changes with every
 * registry write that reached it; for live settings). */
uint64_t gn_pdir_generation(gn_pdir_shard *ps);

/* Look up org[0..len). */
gn_pdir_result gn_pdir_org_get(gn_pdir_shard *ps, const char *org, size_t len, gn_pdir_org *out);

/* A device type's own TLS policy (S-035): true with *policy set
 * (GN_PDIR_TLS_*) when the type has one, false when the org's applies
 * (also for an unknown type). */
bool gn_pdir_type_tls_policy(gn_pdir_shard *ps, const char *org, size_t org_len,
                             const char *type, size_t type_len, uint8_t *policy);
/* A device type's overrides of its org's rate settings (0 = the org's). */
typedef struct gn_pdir_type_rate {
    uint32_t rate_msgs, rate_bytes;  /* Watson pacing (S-094, S-097) */
    uint32_t throttle_limit;         /* Ioto (S-137) */
} gn_pdir_type_rate;
/* Look up type[0..type_len) of org: false (out zeroed) when unknown. */
bool gn_pdir_type_rate_get(gn_pdir_shard *ps, const char *org, size_t org_len, const char *type,
                           size_t type_len, gn_pdir_type_rate *out);

/* May a client at addr (16 bytes, IPv4 as IPv4-mapped IPv6; NULL when
 * the address is unknown) in country (two letters; NULL when unknown)
 * connect to org (S-038)? True when the org has no IP list; an unknown
 * address passes a blacklist, not a whitelist; an unknown country matches
 * no country entry. No allocation. */
bool gn_pdir_org_ip_allowed(gn_pdir_shard *ps, const char *org, size_t len, const uint8_t *addr,
                            const char *country);

/* Device or gateway (cls 'd' / 'g') with a token. *uid receives its id. */
gn_pdir_result gn_pdir_auth_device(gn_pdir_shard *ps, char cls, const char *org, size_t org_len,
                                   const char *type, size_t type_len, const char *id, size_t id_len,
                                   const uint8_t *token, size_t token_len, uint64_t *uid);
/* Device or gateway whose identity a verified client certificate proved
 * (S-036): registered, of class cls, usable; no token is checked. */
gn_pdir_result gn_pdir_cert_device(gn_pdir_shard *ps, char cls, const char *org, size_t org_len,
                                   const char *type, size_t type_len, const char *id, size_t id_len,
                                   uint64_t *uid);
/* Application: API key and token; the key's org must be org. *perms
 * receives the key's permission bits (GN_PDIR_PERM_*). */
gn_pdir_result gn_pdir_auth_app(gn_pdir_shard *ps, const char *org, size_t org_len,
                                const uint8_t *key, size_t key_len,
                                const uint8_t *token, size_t token_len, uint32_t *perms);
enum {
    GN_PDIR_PERM_EVENT_SEND = 1u << 0,
    GN_PDIR_PERM_EVENT_RECV = 1u << 1,
    GN_PDIR_PERM_CMD_SEND   = 1u << 2,
    GN_PDIR_PERM_CMD_RECV   = 1u << 3,
};

/* Is a token check still a cache hit away, or would it hash? (for the 176
 * rate limit: only hashing counts). Cumulative hash count of this shard. */
uint64_t gn_pdir_hashes(gn_pdir_shard *ps);

/* May gateway (org, gtype, gid) act for device (type, id)? OK, DENIED,
 * DISABLED, NOT_FOUND (unregistered: *privileged says whether the gateway
 * may auto-register it). */
gn_pdir_result gn_pdir_gateway_may_act(gn_pdir_shard *ps, const char *org, size_t org_len,
                                       const char *gtype, size_t gtype_len,
                                       const char *gid, size_t gid_len,
                                       const char *type, size_t type_len,
                                       const char *id, size_t id_len, bool *privileged);

/* Ask for (type, id) to be registered for the gateway. OK: queued, a
 * result with cookie arrives through gn_pdir_autoreg_poll. */
gn_pdir_result gn_pdir_autoreg_submit(gn_pdir_shard *ps, const char *org, size_t org_len,
                                      const char *gtype, size_t gtype_len,
                                      const char *gid, size_t gid_len,
                                      const char *type, size_t type_len,
                                      const char *id, size_t id_len, uint64_t cookie);
typedef struct gn_pdir_autoreg_done {
    uint64_t       cookie;
    gn_pdir_result result;
    bool           visible;      /* the current snapshot already holds the device */
} gn_pdir_autoreg_done;
/* Results that arrived (at most max). A result whose device is not yet in
 * the current snapshot is kept until it is (visible). */
uint32_t gn_pdir_autoreg_poll(gn_pdir_shard *ps, gn_pdir_autoreg_done *out, uint32_t max);

/* Identities disabled or removed since the shard last asked: fn is called
 * for each (kind 'o' org, 't' type, 'd' device / gateway, 'k' API key;
 * 'i' an org whose new IP list may refuse connected clients, S-038;
 * 's' an org (type_len 0) or type whose TLS policy or CA set changed, so
 * connected clients' TLS standing needs a recheck, S-035 / S-036;
 * strings valid for the call). Cheap when nothing changed (one load).
 * Returns false when the feed could not reach back (then every connection
 * should be rechecked; fn was called with kind '*'). */
typedef void (*gn_pdir_revoked_fn)(void *ctx, char kind, const char *org, size_t org_len,
                                   const char *type, size_t type_len, const char *id, size_t id_len);
bool gn_pdir_revocations(gn_pdir_shard *ps, gn_pdir_revoked_fn fn, void *ctx);

/* ---- the orgs' CA certificates (S-036): OpenSSL X509_STORE pointers,
 * valid for the rest of the caller's loop turn (QSBR). */
struct x509_store_st;
/* The store a TLS handshake with this server name (NULL: none) verifies
 * client certificates against: `{orgId}.messaging.…` of an org with CAs
 * gives that org's store (tls_ca_file + its CAs), anything else the union
 * (tls_ca_file + every org's CAs). NULL while no org has a CA: the
 * listener's tls_ca_file store applies. Any shard thread. */
struct x509_store_st *gn_pdir_trust_handshake(gn_pdir *d, const char *server_name);
/* The store a client certificate must verify against for org: true with
 * *store set (tls_ca_file + the org's CAs, or tls_ca_file alone when the
 * org has none) when some org has CAs, or always with `recheck` (a
 * connected client, or a resumed session: the CAs its verification used
 * may be gone); false when the handshake's verification already was the
 * org's. */
bool gn_pdir_trust_org(gn_pdir_shard *ps, const char *org, size_t len, bool recheck,
                       struct x509_store_st **store);

/* Still usable now (for a recheck after kind '*')? */
bool gn_pdir_device_usable(gn_pdir_shard *ps, const char *org, size_t org_len,
                           const char *type, size_t type_len, const char *id, size_t id_len);

#endif
