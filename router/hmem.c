/* router/hmem.c — huge-page blocks for big child tables (see hmem.h):
 * per-size chunks of 2 MiB with a free list each, own mappings above. */
#include "router/hmem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CHUNK ((size_t)2 << 20)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HMEM_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HMEM_OFF 1
#endif
#endif

typedef struct chunk {
    struct chunk *next;
    uint8_t *base;          /* CHUNK bytes, CHUNK-aligned */
    size_t size;            /* block size (< CHUNK), or the mapping's size if >= CHUNK */
    uint32_t nblocks, nfree;
    void **free;            /* nblocks slots: the free blocks */
} chunk;

struct gn_hmem {
    pthread_mutex_t lock;
    chunk *chunks;
};

/* A CHUNK-aligned anonymous mapping of len bytes (a multiple of CHUNK). */
static uint8_t *map_aligned(size_t len)
{
    uint8_t *raw = mmap(NULL, len + CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uint8_t *base = (uint8_t *)(((uintptr_t)raw + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1));
    if (base > raw)
        munmap(raw, (size_t)(base - raw));
    size_t tail = (size_t)((raw + len + CHUNK) - (base + len));
    if (tail)
        munmap(base + len, tail);
    /* best effort: without THP the mapping just uses small pages */
    madvise(base, len, MADV_HUGEPAGE);
    return base;
}

gn_hmem *gn_hmem_create(void)
{
#ifdef HMEM_OFF
    return NULL;
#else
    gn_hmem *h = calloc(1, sizeof *h);
    if (h && pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        h = NULL;
    }
    return h;
#endif
}

static void chunk_drop(chunk *c)
{
    munmap(c->base, c->size >= CHUNK ? c->size : CHUNK);
    free(c->free);
    free(c);
}

void gn_hmem_destroy(gn_hmem *h)
{
    if (!h)
        return;
    for (chunk *c = h->chunks, *n; c; c = n) {
        n = c->next;
        chunk_drop(c);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static chunk *chunk_new(size_t size)
{
    chunk *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->size = size;
    c->nblocks = size >= CHUNK ? 1 : (uint32_t)(CHUNK / size);
    c->free = malloc(sizeof *c->free * c->nblocks);
    c->base = c->free ? map_aligned(size >= CHUNK ? size : CHUNK) : NULL;
    if (!c->base) {
        free(c->free);
        free(c);
        return NULL;
    }
    for (uint32_t i = 0; i < c->nblocks; i++)
        c->free[i] = c->base + (size_t)i * (size >= CHUNK ? 0 : size);
    c->nfree = c->nblocks;
    return c;
}

void *gn_hmem_alloc(gn_hmem *h, size_t size)
{
    pthread_mutex_lock(&h->lock);
    chunk *c = NULL;
    if (size < CHUNK)
        for (c = h->chunks; c && !(c->size == size && c->nfree); c = c->next)
            ;
    if (!c) {
        c = chunk_new(size);
        if (!c) {
            pthread_mutex_unlock(&h->lock);
            return NULL;
        }
        c->next = h->chunks;
        h->chunks = c;
    }
    void *p = c->free[--c->nfree];
    pthread_mutex_unlock(&h->lock);
    return p;
}

void gn_hmem_free(gn_hmem *h, void *p, size_t size)
{
    if (!p)
        return;
    uint8_t *base = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(CHUNK - 1));
    pthread_mutex_lock(&h->lock);
    for (chunk **pc = &h->chunks; *pc; pc = &(*pc)->next) {
        chunk *c = *pc;
        if (c->base != base || c->size != size)
            continue;
        c->free[c->nfree++] = p;
        if (c->nfree == c->nblocks) { /* every block free: give the chunk back */
            *pc = c->next;
            chunk_drop(c);
        }
        break;
    }
    pthread_mutex_unlock(&h->lock);
}
