/* router/hmem.h — memory for the subscription trie's big child tables:
 * power-of-two blocks of GN_HMEM_MIN bytes or more on transparent huge
 * pages.
 *
 * Why: a million-device table is matched with one random access per topic,
 * and with 4 KiB pages most of them also miss the TLB; the page walk of a
 * KVM guest costs about as much as the access itself (pointer chase over
 * 128 MiB on the development VM: ~255 ns per load with 4 KiB pages, ~180 ns
 * with 2 MiB pages). Blocks up to 2 MiB are carved from 2 MiB-aligned
 * mappings advised MADV_HUGEPAGE, one size per mapping ("chunk"), and a
 * chunk is unmapped as soon as all its blocks are free again (tables
 * double, so their old blocks come free together); bigger blocks get a
 * mapping of their own. Where THP is off the mappings simply stay on 4 KiB
 * pages.
 *
 * Under AddressSanitizer or ThreadSanitizer gn_hmem_create returns NULL and
 * the caller falls back to malloc, so the sanitizers see every table.
 *
 * Threading: any thread may allocate or free (one internal mutex);
 * allocations are rare (a table rebuild). Freed memory must not be touched
 * again (QSBR decides when to free). */
#ifndef GN_ROUTER_HMEM_H
#define GN_ROUTER_HMEM_H

#include <stddef.h>

#define GN_HMEM_MIN ((size_t)256 << 10)

typedef struct gn_hmem gn_hmem;

/* NULL when huge-page blocks are not used (sanitizer builds, no memory). */
gn_hmem *gn_hmem_create(void);
/* Unmaps everything, freed or not. */
void gn_hmem_destroy(gn_hmem *h);
/* A block of `size` bytes (a power of two >= GN_HMEM_MIN), 64-byte (in
 * fact size- or 2 MiB-) aligned, contents undefined. NULL when out of
 * memory. */
void *gn_hmem_alloc(gn_hmem *h, size_t size);
/* Give back a block from gn_hmem_alloc with the same size. */
void gn_hmem_free(gn_hmem *h, void *p, size_t size);

#endif
