/* engine/slab.h — a shard's fixed-size object pool for connections,
 * sessions and other small per-client objects.
 *
 * Objects come from chunks mapped with mmap and handed out with a bump
 * pointer, so pages of a chunk become resident only when objects in them
 * are first used; freed objects go on a LIFO free list and are reused
 * first (warm in cache). Chunks are returned to the system only by
 * gn_slab_destroy. Under AddressSanitizer free and never-used objects are
 * poisoned, so a use after gn_slab_free is reported.
 *
 * Object size is rounded up to the alignment (16 by default, or a power of
 * two up to 4096 given to gn_slab_init_aligned). Overhead per object: none
 * beyond that rounding (the free-list link lives inside a free object).
 *
 * Threading: a pool belongs to one thread; no function is thread-safe.
 * The caller owns allocated objects until it frees them to the same pool. */
#ifndef GN_ENGINE_SLAB_H
#define GN_ENGINE_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define GN_SLAB_DEFAULT_CHUNK (256u * 1024u)   /* bytes per chunk */

typedef struct gn_slab_chunk gn_slab_chunk;

/* Embedded in its owner. Fields are private to slab.c. */
typedef struct gn_slab {
    size_t         obj_size;     /* rounded size */
    size_t         align;
    size_t         chunk_bytes;  /* mapping size of one chunk */
    size_t         per_chunk;    /* objects per chunk */
    void          *free_list;
    char          *bump;         /* next never-used object in the newest chunk */
    char          *bump_end;
    gn_slab_chunk *chunks;       /* every chunk, newest first */
    size_t         in_use;
    size_t         capacity;     /* objects in all chunks */
    size_t         nchunks;
    const char    *name;         /* for logs, not copied */
} gn_slab;

/* Set up an empty pool (maps nothing yet) for objects of obj_size bytes
 * (1 .. chunk_bytes), chunk_bytes 0 = GN_SLAB_DEFAULT_CHUNK (rounded up to
 * whole pages and to at least one object). Returns 0, or -1 on a bad
 * argument (errno EINVAL). */
int gn_slab_init(gn_slab *s, const char *name, size_t obj_size, size_t chunk_bytes);
int gn_slab_init_aligned(gn_slab *s, const char *name, size_t obj_size, size_t align,
                         size_t chunk_bytes);

/* An object of obj_size bytes, contents undefined; NULL when a new chunk
 * cannot be mapped (errno ENOMEM). */
void *gn_slab_alloc(gn_slab *s);

/* Same, zero-filled. */
void *gn_slab_zalloc(gn_slab *s);

/* Give an object back to the pool it came from. NULL is a no-op. */
void gn_slab_free(gn_slab *s, void *obj);

/* Unmap every chunk. Objects still allocated become invalid. The pool can
 * be initialised again afterwards. */
void gn_slab_destroy(gn_slab *s);

typedef struct gn_slab_stats {
    size_t obj_size;   /* rounded */
    size_t in_use;     /* objects allocated and not freed */
    size_t capacity;   /* objects the mapped chunks can hold */
    size_t chunks;
    size_t mapped;     /* bytes mapped (virtual; resident is <= this) */
} gn_slab_stats;

void gn_slab_get_stats(const gn_slab *s, gn_slab_stats *out);

#endif
