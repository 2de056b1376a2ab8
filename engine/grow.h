/* engine/grow.h — how the engine's append-only arrays grow: doubling
 * realloc, one helper instead of the same six lines at every array.
 * Any thread, on arrays it owns. */
#ifndef GN_ENGINE_GROW_H
#define GN_ENGINE_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* v resized to twice *cap elements of elem bytes (first when *cap is 0);
 * *cap is updated. NULL on no memory or overflow: v and *cap unchanged,
 * and v still owned by the caller. */
static inline void *gn_grow(void *v, uint32_t *cap, size_t elem, uint32_t first)
{
    uint32_t ncap = *cap ? *cap * 2 : first;
    if (ncap <= *cap)
        return NULL;
    void *n = realloc(v, elem * ncap);
    if (n)
        *cap = ncap;
    return n;
}

#endif
