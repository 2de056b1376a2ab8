/* engine/platform/reg_snapshot.h — the registry snapshot's insides: its
 * four tables (orgs, device types, devices and gateways, API keys), the
 * revocation log, building one from scratch and patching one into the
 * next. Lookups are in registry.h; this header is for the registry thread
 * (registry.c), the store loader and tests.
 *
 * Threading: build and patch run on one thread at a time (the registry
 * thread, or the opener before the thread starts). A finished snapshot is
 * immutable. gn_reg_snap_retire_free frees what a patch replaced; call it
 * after a grace period (QSBR). */
#ifndef GN_ENGINE_PLATFORM_REG_SNAPSHOT_H
#define GN_ENGINE_PLATFORM_REG_SNAPSHOT_H

#include "engine/platform/reg_table.h"
#include "engine/platform/registry.h"

#define GN_REG_REVLOG_CAP 1024          /* revocations remembered across snapshots */

typedef struct gn_reg_rev_entry {
    uint64_t generation;
    uint8_t  kind, removed, org_len, type_len, id_len;
    uint8_t  ip_list;                   /* org still enabled, its IP list changed (S-038) */
    uint8_t  tls;                       /* org / type still enabled, its TLS policy or CAs changed */
    char     org[GN_REG_ORG_MAX + 1];
    char     type[GN_REG_ID_MAX + 1];
    char     id[GN_REG_APIKEY_LEN > GN_REG_ID_MAX ? GN_REG_APIKEY_LEN + 1 : GN_REG_ID_MAX + 1];
} gn_reg_rev_entry;

typedef struct gn_reg_revlog {
    uint64_t covers_from;               /* gn_reg_revoked_since is complete for since_gen >= this */
    uint32_t n;
    gn_reg_rev_entry e[];               /* oldest first */
} gn_reg_revlog;

struct gn_reg_snapshot {
    uint64_t generation;
    uint64_t store_seq;                 /* last store change folded in */
    gn_regtab orgs, types, devices, keys;
    uint64_t gateways, groups;
    const gn_reg_revlog *rev;
};

/* Key of a lookup: up to three byte strings (org, type, id). */
typedef struct gn_reg_key {
    const char *a, *b, *c;
    size_t al, bl, cl;
} gn_reg_key;

/* Hash of a key of kind ('o','t','d','k'); 0 with *ok = false when a
 * part is too long to exist. */
uint64_t gn_reg_key_hash(gn_reg_kind kind, const gn_reg_key *k, bool *ok);
bool gn_reg_org_eq(const void *rec, const void *key);
bool gn_reg_type_eq(const void *rec, const void *key);
bool gn_reg_device_eq(const void *rec, const void *key);
bool gn_reg_apikey_eq(const void *rec, const void *key);

/* Default settings of a new org of a plan, and of the quickstart org. */
void gn_reg_org_settings_default(gn_reg_org_settings *s, gn_reg_plan plan);
void gn_reg_org_settings_quickstart(gn_reg_org_settings *s);

/* ---- full build */
typedef struct gn_reg_snap_builder gn_reg_snap_builder;
gn_reg_snap_builder *gn_reg_snap_builder_new(void);
/* Records are copied; keys must be unique. GN_REG_ERR_NOMEM / _INVALID. */
gn_reg_err gn_reg_snap_add_org(gn_reg_snap_builder *b, const gn_reg_org *o);
gn_reg_err gn_reg_snap_add_type(gn_reg_snap_builder *b, const gn_reg_type *t);
gn_reg_err gn_reg_snap_add_device(gn_reg_snap_builder *b, const gn_reg_device *d);
gn_reg_err gn_reg_snap_add_apikey(gn_reg_snap_builder *b, const gn_reg_apikey *k);
void gn_reg_snap_set_groups(gn_reg_snap_builder *b, uint64_t groups);
/* Make the snapshot. prev (may be NULL) is the snapshot it replaces: its
 * revocation log is carried over and every record of prev that is
 * missing or disabled in the new one is added to it. NULL on ENOMEM. The
 * builder is freed either way. */
gn_reg_snapshot *gn_reg_snap_builder_finish(gn_reg_snap_builder *b, uint64_t generation,
                                            uint64_t store_seq, const gn_reg_snapshot *prev);
void gn_reg_snap_builder_free(gn_reg_snap_builder *b);

/* Free a snapshot and everything it points to (it must be the only user
 * of its segments and log: the last one, at close, or a full build's
 * predecessor via gn_reg_snap_retired_whole). NULL is fine. */
void gn_reg_snap_free(gn_reg_snapshot *s);

/* ---- patch */
typedef struct gn_reg_change {
    uint8_t kind;                       /* gn_reg_kind */
    gn_reg_key key;                     /* identity (strings valid during the patch) */
    const void *rec;                    /* new record, or NULL = removed */
} gn_reg_change;

/* What a swap makes unreachable: freed together after a grace period. */
typedef struct gn_reg_retired {
    gn_reg_snapshot *snap;              /* the old snapshot struct */
    bool whole;                         /* free all of snap's segments and log too */
    const gn_reg_revlog *rev;           /* old log when replaced, else NULL */
    size_t nsegs;
    const gn_regtab_seg *segs[4 * GN_REGTAB_NSEG];
} gn_reg_retired;

/* Next snapshot = old with the changes applied (each key at most once);
 * records that went from enabled to disabled or were removed are logged
 * in the revocation log. *retired (allocated) lists what old no longer
 * shares. NULL on ENOMEM (nothing changed). */
gn_reg_snapshot *gn_reg_snap_patch(const gn_reg_snapshot *old, gn_reg_change *ch, size_t n,
                                   uint64_t generation, uint64_t store_seq, gn_reg_retired **retired);

/* A full build's predecessor as a retired bundle (frees everything). */
gn_reg_retired *gn_reg_snap_retired_whole(gn_reg_snapshot *old);

/* gn_qsbr_free_fn-compatible: free a gn_reg_retired bundle. */
void gn_reg_retired_free(void *ctx, void *bundle);

#endif
