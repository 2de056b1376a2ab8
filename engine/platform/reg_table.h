/* engine/platform/reg_table.h — the registry's immutable hash tables:
 * fixed-size records in 256 segments chosen by the top byte of the key's
 * 64-bit hash, each segment an open-addressing index over a dense record
 * array. A change copies only the segments it touches (copy on write);
 * the others are shared with the previous snapshot, so patching one
 * device in a table of a million copies ~4000 records, not a million.
 *
 * Threading: a built table is immutable: find is safe from any thread with
 * no synchronisation beyond how the table was published. Building and
 * patching are single-threaded (the registry thread). A segment belongs
 * to every table that points at it; gn_regtab_patch reports the segments
 * it replaced so the caller retires them (after a grace period) together
 * with the table that was their last user. */
#ifndef GN_ENGINE_PLATFORM_REG_TABLE_H
#define GN_ENGINE_PLATFORM_REG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_REGTAB_SEGBITS 8
#define GN_REGTAB_NSEG    (1u << GN_REGTAB_SEGBITS)

typedef struct gn_regtab_seg {
    uint32_t count;                  /* records */
    uint32_t mask;                   /* index slots - 1 */
    uint32_t rec_size;
    uint32_t _pad;
    const uint64_t *hashes;          /* [count] */
    const uint32_t *slots;           /* [mask + 1]: record index + 1, 0 = empty */
    const uint8_t  *recs;            /* [count * rec_size] */
} gn_regtab_seg;

typedef struct gn_regtab {
    const gn_regtab_seg *seg[GN_REGTAB_NSEG];
    uint64_t count;
    uint32_t rec_size;
} gn_regtab;

/* Does record rec have the key `key` (whatever the caller's key type is)? */
typedef bool (*gn_regtab_eq_fn)(const void *rec, const void *key);

/* An empty table of rec_size-byte records (all segments the shared empty one). */
void gn_regtab_init(gn_regtab *t, uint32_t rec_size);

/* Find the record with hash h and eq(rec, key). NULL when absent. */
static inline const void *gn_regtab_find(const gn_regtab *t, uint64_t h, gn_regtab_eq_fn eq,
                                         const void *key)
{
    const gn_regtab_seg *s = t->seg[h >> (64 - GN_REGTAB_SEGBITS)];
    for (uint32_t i = (uint32_t)h & s->mask;; i = (i + 1) & s->mask) {
        uint32_t v = s->slots[i];
        if (!v)
            return NULL;
        if (s->hashes[v - 1] == h) {
            const void *rec = s->recs + (size_t)(v - 1) * s->rec_size;
            if (eq(rec, key))
                return rec;
        }
    }
}

/* Visit every record (any order). */
void gn_regtab_each(const gn_regtab *t, void (*fn)(void *ctx, const void *rec), void *ctx);

/* ---- building (registry thread) */

/* A builder collects records per segment, then makes a table. */
typedef struct gn_regtab_builder gn_regtab_builder;
gn_regtab_builder *gn_regtab_builder_new(uint32_t rec_size);
/* Add a record (copied). Keys must be unique (the caller's promise). -1 on ENOMEM. */
int gn_regtab_builder_add(gn_regtab_builder *b, uint64_t h, const void *rec);
/* Build into t (every segment newly allocated). -1 on ENOMEM (t untouched). */
int gn_regtab_builder_finish(gn_regtab_builder *b, gn_regtab *t);
void gn_regtab_builder_free(gn_regtab_builder *b);

/* One change: upsert rec (rec != NULL) or delete (rec == NULL) the record
 * with hash h and key `key`. Each key at most once per patch. */
typedef struct gn_regtab_op {
    uint64_t h;
    const void *key;
    const void *rec;
} gn_regtab_op;

/* New table `out` = `in` with ops applied: segments without ops are
 * shared; the replaced segments of `in` are appended to retired[]
 * (capacity GN_REGTAB_NSEG) and *nretired is increased. -1 on ENOMEM (out
 * untouched, nothing retired). ops is reordered. */
int gn_regtab_patch(const gn_regtab *in, gn_regtab *out, gn_regtab_op *ops, size_t nops,
                    gn_regtab_eq_fn eq, const gn_regtab_seg **retired, size_t *nretired);

/* Free a segment (never the shared empty one; NULL is fine). */
void gn_regtab_seg_free(const gn_regtab_seg *s);
/* Free every segment of t (when t is the last user of all of them). */
void gn_regtab_free_all(gn_regtab *t);

/* Bytes held by t's segments (stats). */
size_t gn_regtab_bytes(const gn_regtab *t);

#endif
