/* tests/fuzz/fuzz_monfile.c — libFuzzer target for the connected-client
 * file a restarted gannetd reads back (engine/platform/mon_file.c; the file
 * may be cut or damaged by the crash it is there for). Properties: no
 * crash / over-read (ASan, UBSan); every client handed out has kind '+' or
 * 'D', a topic that is a monitoring topic without wildcards, a 'D' JSON
 * starting with '{', serials strictly increasing (one call per client);
 * the call count is the return value; the same bytes replay the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/mon_file.h"

#include "tests/fuzz/fuzz_check.h"

typedef struct seen {
    long     calls;
    uint64_t last_serial;       /* +1, 0 = none yet */
    uint64_t sum;               /* of serials and topic lengths, to compare two replays */
} seen;

static void visit(void *ctx, const gn_monrec *r, bool graceful)
{
    (void)graceful;
    seen *s = ctx;
    FUZZ_CHECK(r->kind == '+' || r->kind == 'D');
    size_t tl = strlen(r->topic);
    FUZZ_CHECK(tl > 4 && tl <= GN_MONFILE_TOPIC_MAX);
    FUZZ_CHECK(memcmp(r->topic + tl - 4, "/mon", 4) == 0);
    FUZZ_CHECK(!strpbrk(r->topic, "+#\t\n"));
    FUZZ_CHECK(r->rest && !strpbrk(r->rest, "\t\n"));
    if (r->kind == 'D')
        FUZZ_CHECK(r->rest[0] == '{');
    FUZZ_CHECK((uint64_t)r->serial + 1 > s->last_serial);
    s->last_serial = (uint64_t)r->serial + 1;
    s->sum += r->serial + tl + (r->clears ? 7 : 0);
    s->calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *a = malloc(size + 1), *b = malloc(size + 1);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memcpy(a, data, size);
    memcpy(b, data, size);
    a[size] = b[size] = 0;
    seen s1 = { 0 }, s2 = { 0 };
    bool g1, g2;
    long n1 = gn_monfile_replay(a, size, &g1, visit, &s1);
    long n2 = gn_monfile_replay(b, size, &g2, visit, &s2);
    if (n1 >= 0 && n2 >= 0) {
        FUZZ_CHECK(n1 == s1.calls && n2 == s2.calls);
        FUZZ_CHECK(n1 == n2 && g1 == g2 && s1.sum == s2.sum);
    }
    free(a);
    free(b);
    return 0;
}
