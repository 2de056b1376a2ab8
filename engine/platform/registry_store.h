/* engine/platform/registry_store.h — the registry's SQLite store: schema
 * (versioned with PRAGMA user_version), every write gannetctl makes, the
 * full load a snapshot is built from and the change feed a running
 * registry follows (a `changes` table filled by triggers, so a write from
 * any SQLite client is seen too). docs/REGISTRY.md has the schema.
 *
 * Tokens: stored only as PBKDF2 hashes (reg_hash.h). A generated token is
 * written to the caller's buffer once and never again obtainable.
 *
 * Threading: a gn_store is one SQLite connection, used by one thread at a
 * time. Several processes may open the same file (WAL mode; writers wait
 * up to busy_timeout_ms for each other).
 *
 * Errors: every function returns gn_reg_err; gn_store_errmsg tells what
 * exactly failed in words ("device type 'x' not found in org 'abc123'"). */
#ifndef GN_ENGINE_PLATFORM_REGISTRY_STORE_H
#define GN_ENGINE_PLATFORM_REGISTRY_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/platform/reg_snapshot.h"
#include "engine/platform/registry.h"

#define GN_STORE_SCHEMA_VERSION 2        /* registry_store.c: schema_sql + migration steps */

typedef struct gn_store gn_store;

enum {
    GN_STORE_CREATE = 1 << 0,        /* create the file, its directory and the schema if missing */
};

/* Open path. busy_timeout_ms: how long a write waits for another writer. */
gn_reg_err gn_store_open(gn_store **out, const char *path, int flags, uint32_t busy_timeout_ms,
                         char *err, size_t errlen);
void gn_store_close(gn_store *st);
/* The last error in words (static buffer of st; "" after success). */
const char *gn_store_errmsg(const gn_store *st);

/* Group many writes in one transaction (bulk import). */
gn_reg_err gn_store_begin(gn_store *st);
gn_reg_err gn_store_commit(gn_store *st);
void gn_store_rollback(gn_store *st);

/* PBKDF2 iterations for new credentials: 0 = the database's default
 * (meta key kdf_iterations, else GN_REG_DEFAULT_ITERATIONS). */
void gn_store_set_iterations(gn_store *st, uint32_t iterations);

/* ---- syntax checks (S-012, S-013, S-027) */
bool gn_reg_valid_org(const char *s, size_t len);       /* 6 of [a-z0-9], or "quickstart" */
bool gn_reg_valid_id(const char *s, size_t len);        /* 1..36 of [A-Za-z0-9_.-] */
bool gn_reg_valid_apikey(const char *s, size_t len);    /* a-{org}-{10 of [A-Za-z0-9]} */
bool gn_reg_valid_group(const char *s, size_t len);     /* 1..80 printable, no '/' '+' '#' */

/* ---- org settings by name (gannetctl org set / show) */
/* Set one setting from text; GN_REG_ERR_INVALID (unknown name / bad value). */
gn_reg_err gn_reg_settings_set(gn_reg_org_settings *s, const char *name, const char *value);
/* A TLS policy's name ("optional", "token", "cert", "token+cert",
 * "cert|token", or its number 0..4; "org" gives GN_REG_TLS_INHERIT) ->
 * gn_reg_tls_policy, -1 when it is none of them; and back. */
int gn_reg_tls_policy_parse(const char *v);
const char *gn_reg_tls_policy_name(int policy);
/* Visit every setting as (name, value text) in a fixed order. */
void gn_reg_settings_each(const gn_reg_org_settings *s,
                          void (*fn)(void *ctx, const char *name, const char *value), void *ctx);

/* ---- orgs */
/* id NULL: generate a random one. out_id receives the id. */
gn_reg_err gn_store_org_create(gn_store *st, const char *id, const char *name, gn_reg_plan plan,
                               char out_id[GN_REG_ORG_MAX + 1]);
gn_reg_err gn_store_org_get(gn_store *st, const char *org, gn_reg_org *out);
gn_reg_err gn_store_org_list(gn_store *st, void (*fn)(void *ctx, const gn_reg_org *o), void *ctx);
gn_reg_err gn_store_org_set_status(gn_store *st, const char *org, gn_reg_status status);
gn_reg_err gn_store_org_set(gn_store *st, const char *org, const char *name, const char *value);
/* Removes everything of the org. The quickstart org cannot be removed. */
gn_reg_err gn_store_org_remove(gn_store *st, const char *org);

/* ---- device types */
gn_reg_err gn_store_type_add(gn_store *st, const char *org, const char *type, gn_reg_class cls,
                             const char *description);
gn_reg_err gn_store_type_get(gn_store *st, const char *org, const char *type, gn_reg_type *out,
                             uint64_t *ndevices);
gn_reg_err gn_store_type_list(gn_store *st, const char *org,
                              void (*fn)(void *ctx, const gn_reg_type *t, uint64_t ndevices), void *ctx);
gn_reg_err gn_store_type_set_status(gn_store *st, const char *org, const char *type, gn_reg_status s);
/* A device type's own TLS policy (S-035): a policy name, or "org" to use
 * the org's again (the type_settings row tls_policy). GN_REG_ERR_INVALID
 * for another value. */
gn_reg_err gn_store_type_set_tls_policy(gn_store *st, const char *org, const char *type,
                                        const char *value);
/* One per-type setting (gn_reg_type_settings by name: rate_in_msgs,
 * rate_in_bytes, throttle_limit; "0" = the org's). GN_REG_ERR_INVALID for
 * an unknown name or a bad value. */
gn_reg_err gn_store_type_set(gn_store *st, const char *org, const char *type, const char *name,
                             const char *value);
/* The per-type settings by name (store_type_settings.c). */
gn_reg_err gn_reg_type_settings_set(gn_reg_type_settings *s, const char *name, const char *value);
void gn_reg_type_settings_each(const gn_reg_type_settings *s,
                               void (*fn)(void *ctx, const char *name, const char *value), void *ctx);
/* GN_REG_ERR_STATE while devices of the type exist unless force (removes them). */
gn_reg_err gn_store_type_remove(gn_store *st, const char *org, const char *type, bool force);

/* ---- devices and gateways */
/* token NULL: generate one into out_token (GN_REG_TOKEN_GEN_LEN chars);
 * else validated (S-025) and out_token is set to "". A gateway gets its
 * default resource group "gw:{type}:{id}" (S-056) unless no_group.
 * registered_by: uid of the auto-registering gateway or 0. */
typedef struct gn_store_device_spec {
    const char *org, *type, *id;
    gn_reg_class cls;
    const char *token;               /* NULL = generate */
    bool no_token;                   /* store no token at all (cannot authenticate) */
    gn_reg_gw_role role;
    bool no_group;
    uint64_t registered_by;
    uint32_t into_group;             /* also make it a member of this group uid (0 = none) */
    bool create_type;                /* create the device type if missing (auto-registration) */
} gn_store_device_spec;
gn_reg_err gn_store_device_add(gn_store *st, const gn_store_device_spec *spec,
                               char out_token[GN_REG_TOKEN_MAX + 1], uint64_t *out_uid);
gn_reg_err gn_store_device_get(gn_store *st, const char *org, const char *type, const char *id,
                               gn_reg_device *out);
/* type NULL: all types; cls 0: both classes. */
gn_reg_err gn_store_device_list(gn_store *st, const char *org, const char *type, int cls,
                                void (*fn)(void *ctx, const gn_reg_device *d), void *ctx);
gn_reg_err gn_store_device_set_status(gn_store *st, const char *org, const char *type,
                                      const char *id, gn_reg_status s);
gn_reg_err gn_store_device_remove(gn_store *st, const char *org, const char *type, const char *id);
gn_reg_err gn_store_device_rotate(gn_store *st, const char *org, const char *type, const char *id,
                                  const char *token, char out_token[GN_REG_TOKEN_MAX + 1]);
gn_reg_err gn_store_gateway_set_role(gn_store *st, const char *org, const char *type,
                                     const char *id, gn_reg_gw_role role);

/* ---- API keys */
gn_reg_err gn_store_apikey_create(gn_store *st, const char *org, uint32_t perms,
                                  const char *description, const char *token,
                                  char out_key[GN_REG_APIKEY_LEN + 1],
                                  char out_token[GN_REG_TOKEN_MAX + 1]);
gn_reg_err gn_store_apikey_get(gn_store *st, const char *key, gn_reg_apikey *out);
gn_reg_err gn_store_apikey_list(gn_store *st, const char *org,
                                void (*fn)(void *ctx, const gn_reg_apikey *k), void *ctx);
gn_reg_err gn_store_apikey_set_status(gn_store *st, const char *key, gn_reg_status s);
gn_reg_err gn_store_apikey_set_perms(gn_store *st, const char *key, uint32_t perms);
gn_reg_err gn_store_apikey_remove(gn_store *st, const char *key);
gn_reg_err gn_store_apikey_rotate(gn_store *st, const char *key, const char *token,
                                  char out_token[GN_REG_TOKEN_MAX + 1]);

/* Permission names ("event_send", ...; "all") <-> bits. */
gn_reg_err gn_reg_perms_parse(const char *list, uint32_t *out);   /* comma-separated */
void gn_reg_perms_format(uint32_t perms, char *out, size_t len);

/* ---- resource groups */
typedef struct gn_store_group {
    uint64_t uid;
    char name[GN_REG_GROUP_NAME_MAX + 1];
    bool is_default;                 /* a gateway's default group: cannot be removed (S-056) */
    uint64_t members, gateways;
} gn_store_group;
gn_reg_err gn_store_group_create(gn_store *st, const char *org, const char *name, uint64_t *uid);
gn_reg_err gn_store_group_get(gn_store *st, const char *org, const char *name, gn_store_group *out);
gn_reg_err gn_store_group_list(gn_store *st, const char *org,
                               void (*fn)(void *ctx, const gn_store_group *g), void *ctx);
gn_reg_err gn_store_group_remove(gn_store *st, const char *org, const char *name);
gn_reg_err gn_store_group_member(gn_store *st, const char *org, const char *name,
                                 const char *type, const char *id, bool add);
gn_reg_err gn_store_group_gateway(gn_store *st, const char *org, const char *name,
                                  const char *type, const char *id, bool attach);
/* Members (gateways = false) or attached gateways of a group. */
gn_reg_err gn_store_group_each(gn_store *st, const char *org, const char *name, bool gateways,
                               void (*fn)(void *ctx, const char *type, const char *id), void *ctx);

/* ---- org CA certificates (S-036) */
#define GN_REG_ORG_CA_MAX   16           /* CA certificates per org */
#define GN_REG_CA_FILE_MAX  (256 * 1024) /* largest PEM file accepted */
typedef struct gn_store_ca {
    char org[GN_REG_ORG_MAX + 1];
    char fingerprint[65];            /* SHA-256 of the DER, lower-case hex */
    char subject[256];               /* RFC 2253, truncated */
    int64_t not_after;               /* Unix time */
    const char *pem;                 /* gn_store_org_ca_each: canonical PEM (valid during fn) */
    size_t pem_len;
} gn_store_ca;
/* Add every certificate of a PEM file (pem[0..len)) to the org, all or
 * none: each must be a CA (basicConstraints CA:TRUE, keyCertSign when it
 * has a key usage) that has not expired. GN_REG_ERR_INVALID with the
 * reason for text that is not PEM, a damaged certificate, or no
 * certificate at all; _EXISTS for a CA the org has; _LIMIT past
 * GN_REG_ORG_CA_MAX; _STATE for quickstart. fn (may be NULL) gets each
 * added CA (pem NULL). */
gn_reg_err gn_store_org_ca_add(gn_store *st, const char *org, const char *pem, size_t len,
                               void (*fn)(void *ctx, const gn_store_ca *ca), void *ctx);
/* The CAs of org (NULL: of every org, ordered by org), oldest first. */
gn_reg_err gn_store_org_ca_each(gn_store *st, const char *org,
                                void (*fn)(void *ctx, const gn_store_ca *ca), void *ctx);
/* Remove the org's CA whose fingerprint starts with `fingerprint` (at
 * least 8 hex digits, ':' ignored); its full fingerprint into removed.
 * _NOT_FOUND, or _INVALID when the prefix names several. */
gn_reg_err gn_store_org_ca_remove(gn_store *st, const char *org, const char *fingerprint,
                                  char removed[65]);
/* A number that changes whenever any org's CA set changes. */
gn_reg_err gn_store_org_ca_version(gn_store *st, int64_t *out);

/* ---- registry side (the registry thread) */
/* SQLite's data_version: changes when another connection committed. */
gn_reg_err gn_store_data_version(gn_store *st, int64_t *out);
/* Everything into b; *seq = the last change number it includes. */
gn_reg_err gn_store_load(gn_store *st, gn_reg_snap_builder *b, uint64_t *seq);
/* Changes after seq, oldest first: fn(kind, org, type, id) per row; *last
 * = the newest seq seen; *gap = true when rows after seq were pruned (then
 * do a full load). */
gn_reg_err gn_store_changes(gn_store *st, uint64_t seq,
                            void (*fn)(void *ctx, gn_reg_kind kind, const char *org,
                                       const char *type, const char *id),
                            void *ctx, uint64_t *last, bool *gap);
/* Load one record by key into rec (a gn_reg_org / _type / _device /
 * _apikey by kind); *found false when it no longer exists. */
gn_reg_err gn_store_load_one(gn_store *st, gn_reg_kind kind, const char *org, const char *type,
                             const char *id, void *rec, bool *found);
/* Keep only the newest `keep` change rows. */
gn_reg_err gn_store_prune_changes(gn_store *st, uint64_t keep);
/* Count of resource groups (all orgs). */
gn_reg_err gn_store_group_count(gn_store *st, uint64_t *out);

#endif
