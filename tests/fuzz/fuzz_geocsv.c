/* tests/fuzz/fuzz_geocsv.c — libFuzzer target for the operator's country
 * override file (engine/platform/geo_table.c, "cidr,CC" lines; the file is
 * whatever an operator wrote). Properties: no crash / over-read / leak
 * (ASan, UBSan); a failure always explains itself ("line N: ..." or the
 * duplicate); an accepted table answers lookups only with two upper-case
 * letters, the same answer every time; the same bytes parse to a table of
 * the same size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/geo_table.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    gn_geo_table *t = gn_geo_table_parse((const char *)data, size, err, sizeof err);
    if (!t) {
        FUZZ_CHECK(err[0] != 0);
        return 0;
    }
    gn_geo_table *u = gn_geo_table_parse((const char *)data, size, err, sizeof err);
    FUZZ_CHECK(u && gn_geo_table_size(u) == gn_geo_table_size(t));
    /* Addresses built from the input itself hit its prefixes now and then. */
    for (size_t off = 0; off + 16 <= size && off < 16 * 64; off += 16) {
        uint8_t a[16];
        memcpy(a, data + off, 16);
        for (int mapped = 0; mapped < 2; mapped++) {
            if (mapped) {
                memset(a, 0, 10);
                a[10] = a[11] = 0xff;
            }
            char c1[2], c2[2];
            bool h1 = gn_geo_table_lookup(t, a, c1), h2 = gn_geo_table_lookup(u, a, c2);
            FUZZ_CHECK(h1 == h2);
            if (h1) {
                FUZZ_CHECK(c1[0] >= 'A' && c1[0] <= 'Z' && c1[1] >= 'A' && c1[1] <= 'Z');
                FUZZ_CHECK(c1[0] == c2[0] && c1[1] == c2[1]);
            }
        }
    }
    gn_geo_table_free(u);
    gn_geo_table_free(t);
    return 0;
}
