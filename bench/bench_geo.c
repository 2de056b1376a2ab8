/* bench/bench_geo.c — what a country list costs at CONNECT (S-038): one
 * peer-address-to-country lookup (engine/platform/geoip.c) through Debian's
 * geoip-database held in memory (IPv4 and IPv6, random addresses), through
 * operator override tables of 1, 1000 and 100000 prefixes of mixed
 * lengths (16 distinct lengths: 16 binary searches at most), and the list check after it (gn_reg_ipacl_allows with the
 * largest list: 32 prefixes and 64 countries); plus the one-off cost of
 * loading the databases at start. One JSON object per line.
 * Usage: bench_geo [seconds per measurement (default 1.0)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/platform/geo_table.h"
#include "engine/platform/geoip.h"
#include "engine/platform/registry.h"

#define DB4 "/usr/share/GeoIP/GeoIP.dat"
#define DB6 "/usr/share/GeoIP/GeoIPv6.dat"
#define NADDR 4096

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void v4(uint8_t a[16], uint32_t ip)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)(ip >> 24);
    a[13] = (uint8_t)(ip >> 16);
    a[14] = (uint8_t)(ip >> 8);
    a[15] = (uint8_t)ip;
}

static uint8_t addrs4[NADDR][16], addrs6[NADDR][16];
static volatile unsigned sink;

static void run(const char *name, const gn_geo *g, uint8_t (*addrs)[16], double secs, const char *extra)
{
    uint64_t n = 0, found = 0;
    double t0 = now_s(), t;
    char cc[2];
    do {
        for (int i = 0; i < NADDR; i++)
            found += gn_geo_country(g, addrs[i], cc);
        n += NADDR;
    } while ((t = now_s()) - t0 < secs);
    sink += (unsigned)found;
    printf("{\"bench\":\"geo_lookup\",\"source\":\"%s\"%s,\"lookups_per_s\":%.0f,\"ns_per_lookup\":%.1f,"
           "\"found_fraction\":%.3f}\n",
           name, extra, (double)n / (t - t0), (t - t0) * 1e9 / (double)n, (double)found / (double)n);
}

/* An override file of n distinct prefixes of /17 .. /32 (n <= 131072):
 * prefix i has i in its top 17 bits, the rest random. */
static char *override_text(size_t n, size_t *len)
{
    char *b = malloc(n * 28 + 1);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned bits = 17 + rnd() % 16;
        uint32_t ip = (uint32_t)i << 15 | (rnd() & 0x7fff);
        ip &= bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
        w += (size_t)sprintf(b + w, "%u.%u.%u.%u/%u,%c%c\n", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
                             ip & 255, bits, 'A' + rnd() % 26, 'A' + rnd() % 26);
    }
    *len = w;
    return b;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    for (int i = 0; i < NADDR; i++) {
        v4(addrs4[i], rnd() << 8 ^ rnd());
        memset(addrs6[i], 0, 16);
        addrs6[i][0] = 0x2a;                                /* 2a00::/12: RIPE's, densely allocated */
        addrs6[i][1] = (uint8_t)(rnd() & 0x0f);
        for (int k = 2; k < 8; k++)
            addrs6[i][k] = (uint8_t)rnd();
    }
    char err[256];
    double t0 = now_s();
    gn_geo *g = gn_geo_open(DB4, DB6, "", err, sizeof err);
    double topen = now_s() - t0;
    if (!g) {
        fprintf(stderr, "bench_geo: %s\n", err);
        return 1;
    }
    char what[200];
    gn_geo_describe(g, what, sizeof what);
    printf("{\"bench\":\"geo_open\",\"what\":\"%s\",\"ms\":%.1f}\n", what, topen * 1e3);
    run("geoip-database-v4", g, addrs4, secs, "");
    run("geoip-database-v6", g, addrs6, secs, "");
    gn_geo_close(g);

    static const size_t sizes[] = { 1, 1000, 100000 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len;
        char *text = override_text(sizes[s], &len);
        char path[] = "/tmp/gn_bench_geoXXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
            perror("bench_geo: temp file");
            return 1;
        }
        close(fd);
        free(text);
        t0 = now_s();
        g = gn_geo_open("", "", path, err, sizeof err);
        topen = now_s() - t0;
        unlink(path);
        if (!g) {
            fprintf(stderr, "bench_geo: %s\n", err);
            return 1;
        }
        char extra[96];
        snprintf(extra, sizeof extra, ",\"prefixes\":%zu,\"open_ms\":%.1f", sizes[s], topen * 1e3);
        run("override", g, addrs4, secs, extra);
        gn_geo_close(g);
    }

    /* The list check that follows a lookup, with the largest list. */
    char list[GN_REG_IPACL_TEXT_MAX];
    size_t w = (size_t)snprintf(list, sizeof list, "white:");
    for (int i = 0; i < GN_REG_IPACL_MAX; i++)
        w += (size_t)snprintf(list + w, sizeof list - w, "10.%d.0.0/16,", i);
    for (int i = 0; i < GN_REG_IPACL_CC_MAX; i++)
        w += (size_t)snprintf(list + w, sizeof list - w, "%c%c%s", 'A' + i / 26, 'A' + i % 26,
                              i + 1 < GN_REG_IPACL_CC_MAX ? "," : "");
    gn_reg_ipacl acl;
    if (gn_reg_ipacl_parse(list, &acl, err, sizeof err) != GN_REG_OK) {
        fprintf(stderr, "bench_geo: %s\n", err);
        return 1;
    }
    uint64_t n = 0;
    t0 = now_s();
    double t;
    do {
        for (int i = 0; i < NADDR; i++)
            sink += gn_reg_ipacl_allows(&acl, addrs4[i], "ZZ");    /* in no list: every entry compared */
        n += NADDR;
    } while ((t = now_s()) - t0 < secs);
    printf("{\"bench\":\"ipacl_check\",\"prefixes\":%d,\"countries\":%d,\"ns_per_check\":%.1f}\n",
           GN_REG_IPACL_MAX, GN_REG_IPACL_CC_MAX, (t - t0) * 1e9 / (double)n);
    return 0;
}
