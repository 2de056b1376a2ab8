/* engine/slab.c — per-shard fixed-size object pool: mmap'd chunks, bump
 * allocation of never-used objects (so untouched pages stay non-resident),
 * LIFO free list of returned ones, ASan poisoning of everything not handed
 * out. */
#include "engine/slab.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define GN_SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GN_SLAB_ASAN 1
#endif
#endif

#ifdef GN_SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Chunk header at the start of each mapping; objects follow at the first
 * aligned offset. */
struct gn_slab_chunk {
    gn_slab_chunk *next;
    size_t         bytes;
};

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096u;
}

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

static size_t objects_offset(size_t align)
{
    return round_up(sizeof(gn_slab_chunk), align);
}

int gn_slab_init_aligned(gn_slab *s, const char *name, size_t obj_size, size_t align,
                         size_t chunk_bytes)
{
    size_t page = page_size();
    if (align < sizeof(void *) || align > 4096 || (align & (align - 1)) != 0 || obj_size == 0 ||
        obj_size > (SIZE_MAX >> 4) || chunk_bytes > (SIZE_MAX >> 4)) {
        errno = EINVAL;
        return -1;
    }
    if (chunk_bytes == 0)
        chunk_bytes = GN_SLAB_DEFAULT_CHUNK;
    if (obj_size > chunk_bytes) {
        errno = EINVAL;
        return -1;
    }
    memset(s, 0, sizeof *s);
    s->obj_size = round_up(obj_size, align);
    s->align = align;
    size_t need = objects_offset(align) + s->obj_size;
    s->chunk_bytes = round_up(chunk_bytes > need ? chunk_bytes : need, page);
    s->per_chunk = (s->chunk_bytes - objects_offset(align)) / s->obj_size;
    s->name = name;
    return 0;
}

int gn_slab_init(gn_slab *s, const char *name, size_t obj_size, size_t chunk_bytes)
{
    return gn_slab_init_aligned(s, name, obj_size, 16, chunk_bytes);
}

static int add_chunk(gn_slab *s)
{
    void *p = mmap(NULL, s->chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return -1;
    }
    gn_slab_chunk *c = p;
    c->next = s->chunks;
    c->bytes = s->chunk_bytes;
    s->chunks = c;
    s->nchunks++;
    s->capacity += s->per_chunk;
    s->bump = (char *)p + objects_offset(s->align);
    s->bump_end = s->bump + s->per_chunk * s->obj_size;
    POISON(s->bump, (size_t)(s->bump_end - s->bump));
    return 0;
}

void *gn_slab_alloc(gn_slab *s)
{
    void *obj;
    if (s->free_list != NULL) {
        obj = s->free_list;
        UNPOISON(obj, s->obj_size);
        memcpy(&s->free_list, obj, sizeof(void *));
    } else {
        if (s->bump == s->bump_end && add_chunk(s) != 0)
            return NULL;
        obj = s->bump;
        s->bump += s->obj_size;
        UNPOISON(obj, s->obj_size);
    }
    s->in_use++;
    return obj;
}

void *gn_slab_zalloc(gn_slab *s)
{
    void *obj = gn_slab_alloc(s);
    if (obj != NULL)
        memset(obj, 0, s->obj_size);
    return obj;
}

void gn_slab_free(gn_slab *s, void *obj)
{
    if (obj == NULL)
        return;
    memcpy(obj, &s->free_list, sizeof(void *));
    s->free_list = obj;
    s->in_use--;
    POISON(obj, s->obj_size);
}

void gn_slab_destroy(gn_slab *s)
{
    gn_slab_chunk *c = s->chunks;
    while (c != NULL) {
        gn_slab_chunk *next = c->next;
        size_t bytes = c->bytes;
        UNPOISON(c, bytes);
        munmap(c, bytes);
        c = next;
    }
    s->chunks = NULL;
    s->free_list = NULL;
    s->bump = s->bump_end = NULL;
    s->in_use = s->capacity = s->nchunks = 0;
}

void gn_slab_get_stats(const gn_slab *s, gn_slab_stats *out)
{
    out->obj_size = s->obj_size;
    out->in_use = s->in_use;
    out->capacity = s->capacity;
    out->chunks = s->nchunks;
    out->mapped = s->nchunks * s->chunk_bytes;
}
