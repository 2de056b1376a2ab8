/* router/tabsize.h — the sizing policy shared by the router's
 * open-addressing child tables (router/ltab.h, router/ctab.h): grow when
 * live + tombstones would pass 3/4 of the capacity, shrink when fewer than
 * 1/8 of the slots are live (and the table has more than 8). Pure
 * functions. */
#ifndef GN_ROUTER_TABSIZE_H
#define GN_ROUTER_TABSIZE_H

#include <stdbool.h>
#include <stdint.h>

/* Smallest power-of-two capacity (>= 2) that holds live + 1 under 3/4. */
static inline uint32_t gn_tab_cap_for(uint32_t live)
{
    uint32_t cap = 2;
    while ((uint64_t)(live + 1) * 4 > (uint64_t)cap * 3)
        cap *= 2;
    return cap;
}

/* Would one more used slot pass 3/4 of cap? */
static inline bool gn_tab_full(uint32_t used, uint32_t cap)
{
    return (uint64_t)(used + 1) * 4 > (uint64_t)cap * 3;
}

/* Worth shrinking: more than 8 slots, fewer than 1/8 live. */
static inline bool gn_tab_sparse(uint32_t live, uint32_t cap)
{
    return cap > 8 && (uint64_t)live * 8 < (uint64_t)cap;
}

#endif
