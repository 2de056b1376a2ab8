/* bench/loadgen/seqtrack.c — delivery bitmaps for loss and duplicate counts. */
#include "bench/loadgen/seqtrack.h"

#include <stdlib.h>
#include <string.h>

gl_status gl_seqtrack_init(gl_seqtrack *t, uint32_t groups, uint32_t pubs)
{
    memset(t, 0, sizeof *t);
    t->groups = groups;
    t->pubs = pubs;
    if (groups == 0 || pubs == 0)
        return GL_OK;
    t->maps = calloc((size_t)groups * pubs, sizeof *t->maps);
    return t->maps ? GL_OK : GL_ERR_NOMEM;
}

void gl_seqtrack_free(gl_seqtrack *t)
{
    if (t->maps)
        for (size_t i = 0; i < (size_t)t->groups * t->pubs; i++)
            free(t->maps[i].w);
    free(t->maps);
    memset(t, 0, sizeof *t);
}

static bool grow(gl_bitmap *m, uint32_t need_words)
{
    uint32_t n = m->nwords ? m->nwords : 1024;
    while (n < need_words)
        n = n > UINT32_MAX / 2 ? need_words : n * 2;
    uint64_t *w = realloc(m->w, (size_t)n * sizeof *w);
    if (!w)
        return false;
    memset(w + m->nwords, 0, (size_t)(n - m->nwords) * sizeof *w);
    m->w = w;
    m->nwords = n;
    return true;
}

bool gl_seqtrack_add(gl_seqtrack *t, uint32_t group, uint32_t pub, uint32_t seq)
{
    gl_bitmap *m = &t->maps[(size_t)group * t->pubs + pub];
    uint32_t word = seq >> 6;
    t->received++;
    if (word >= m->nwords && !grow(m, word + 1)) {
        t->unique++;            /* out of memory: count it, cannot tell duplicates */
        return true;
    }
    uint64_t bit = UINT64_C(1) << (seq & 63u);
    if (m->w[word] & bit)
        return false;
    m->w[word] |= bit;
    t->unique++;
    return true;
}

gl_status gl_seqtrack_merge(gl_seqtrack *dst, const gl_seqtrack *src)
{
    dst->received += src->received;
    uint64_t unique = 0;
    for (size_t i = 0; i < (size_t)dst->groups * dst->pubs; i++) {
        gl_bitmap *d = &dst->maps[i];
        const gl_bitmap *s = &src->maps[i];
        if (s->nwords > d->nwords && !grow(d, s->nwords))
            return GL_ERR_NOMEM;
        for (uint32_t k = 0; k < s->nwords; k++)
            d->w[k] |= s->w[k];
        for (uint32_t k = 0; k < d->nwords; k++)
            unique += (uint64_t)__builtin_popcountll(d->w[k]);
    }
    dst->unique = unique;
    return GL_OK;
}
