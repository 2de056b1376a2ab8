/* engine/platform/mon_file.c — replaying a connected-client file (see
 * mon_file.h): lines into records, the last record of every serial wins,
 * the clients still held handed to the caller. */
#include <stdlib.h>
#include <string.h>

#include "engine/platform/mon_file.h"

typedef struct line_rec {
    gn_monrec r;
    uint32_t  line;             /* order in the file */
} line_rec;

static int rec_cmp(const void *a, const void *b)
{
    const line_rec *x = a, *y = b;
    if (x->r.serial != y->r.serial)
        return x->r.serial < y->r.serial ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Split line at tabs into at most max fields; the count. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

static bool number(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

static bool mon_topic_ok(const char *t)
{
    size_t n = strlen(t);
    return n > 4 && n <= GN_MONFILE_TOPIC_MAX && memcmp(t + n - 4, "/mon", 4) == 0 &&
           !strpbrk(t, "+#") && t[0] != '/';
}

/* One line into r; false when malformed or 'S' (*stop set for 'S'). */
static bool parse_line(char *p, gn_monrec *r, bool *stop)
{
    char *f[7];
    int nf = split(p, f, 7);       /* one more than any record has: extra tabs are damage */
    uint64_t v;
    *stop = false;
    memset(r, 0, sizeof *r);
    if (f[0][0] == 'S' && !f[0][1] && nf == 1) {
        *stop = true;
        return false;
    }
    if (f[0][1] || nf < 2 || !number(f[1], UINT32_MAX, &v))
        return false;
    r->kind = f[0][0];
    r->serial = (uint32_t)v;
    switch (r->kind) {
    case '-':
        return nf == 2;
    case '+':
        if (nf != 6 || !number(f[3], UINT64_MAX / 2, &r->connect_ms))
            return false;
        r->topic = f[4];
        r->rest = f[5];
        break;
    case 'D':
        if (nf != 5 || f[4][0] != '{')
            return false;
        r->topic = f[3];
        r->rest = f[4];
        break;
    default:
        return false;
    }
    if ((f[2][0] != 'a' && f[2][0] != 'd') || f[2][1] || !mon_topic_ok(r->topic))
        return false;
    r->clears = f[2][0] == 'a';
    return true;
}

long gn_monfile_replay(char *buf, size_t len, bool *graceful, gn_monrec_fn fn, void *ctx)
{
    *graceful = false;
    size_t n = 0, cap = 0;
    line_rec *rs = NULL;
    uint32_t line = 0;
    for (char *p = buf; p < buf + len;) {
        char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        if (!nl)
            break;                  /* a record cut by the crash */
        *nl = 0;
        line_rec lr = { .line = line++ };
        bool stop = false;
        bool has_nul = memchr(p, 0, (size_t)(nl - p)) != NULL;
        bool ok = !has_nul && parse_line(p, &lr.r, &stop);
        *graceful = stop;           /* only when 'S' is the last complete line */
        p = nl + 1;
        if (!ok)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            line_rec *q = realloc(rs, nc * sizeof *rs);
            if (!q) {
                free(rs);
                return -1;
            }
            rs = q;
            cap = nc;
        }
        rs[n++] = lr;
    }
    if (n)
        qsort(rs, n, sizeof *rs, rec_cmp);
    long calls = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && rs[i + 1].r.serial == rs[i].r.serial)
            continue;               /* a later record of the same client wins */
        if (rs[i].r.kind == '-')
            continue;
        fn(ctx, &rs[i].r, *graceful);
        calls++;
    }
    free(rs);
    return calls;
}
