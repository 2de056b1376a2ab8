/* engine/platform/geoip.c — peer address to country (engine/platform/
 * geoip.h): the override table, then libGeoIP's country databases held in
 * memory (GEOIP_MEMORY_CACHE: no file access after open, lookups are a
 * walk of an in-memory trie). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef GN_HAVE_GEOIP
#include <GeoIP.h>
#endif

#include "engine/platform/geo_table.h"
#include "engine/platform/geoip.h"

#define OVERRIDE_MAX_BYTES (256u << 20)

struct gn_geo {
    gn_geo_table *ovr;
#ifdef GN_HAVE_GEOIP
    GeoIP *v4, *v6;
#endif
    char what[160];
};

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "platform_geoip_override %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        if (cap >= OVERRIDE_MAX_BYTES) {
            snprintf(err, errlen, "platform_geoip_override %s: larger than %u MiB", path,
                     OVERRIDE_MAX_BYTES >> 20);
            free(b);
            fclose(f);
            return NULL;
        }
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        snprintf(err, errlen, "platform_geoip_override %s: %s", path, b ? "read error" : "out of memory");
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

#ifdef GN_HAVE_GEOIP
static GeoIP *open_db(const char *path, int edition)
{
    if (!path[0] || access(path, R_OK) != 0)
        return NULL;
    GeoIP *gi = GeoIP_open(path, GEOIP_MEMORY_CACHE | GEOIP_SILENCE);
    if (gi && GeoIP_database_edition(gi) != edition) {
        GeoIP_delete(gi);
        return NULL;
    }
    return gi;
}
#endif

gn_geo *gn_geo_open(const char *db4, const char *db6, const char *override_path, char *err,
                    size_t errlen)
{
    gn_geo *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory loading the country data");
        return NULL;
    }
    if (override_path[0]) {
        size_t len = 0;
        char *text = read_file(override_path, &len, err, errlen);
        if (!text) {
            free(g);
            return NULL;
        }
        char why[200];
        g->ovr = gn_geo_table_parse(text, len, why, sizeof why);
        free(text);
        if (!g->ovr) {
            snprintf(err, errlen, "platform_geoip_override %s: %s", override_path, why);
            free(g);
            return NULL;
        }
    }
    int w = snprintf(g->what, sizeof g->what, "%zu override prefixes", gn_geo_table_size(g->ovr));
#ifdef GN_HAVE_GEOIP
    g->v4 = open_db(db4, GEOIP_COUNTRY_EDITION);
    g->v6 = open_db(db6, GEOIP_COUNTRY_EDITION_V6);
    snprintf(g->what + w, sizeof g->what - (size_t)w, ", IPv4 database %s, IPv6 database %s",
             g->v4 ? db4 : "none", g->v6 ? db6 : "none");
#else
    (void)db4;
    (void)db6;
    snprintf(g->what + w, sizeof g->what - (size_t)w, ", no geo-IP database (built without libGeoIP)");
#endif
    return g;
}

void gn_geo_close(gn_geo *g)
{
    if (!g)
        return;
    gn_geo_table_free(g->ovr);
#ifdef GN_HAVE_GEOIP
    if (g->v4)
        GeoIP_delete(g->v4);
    if (g->v6)
        GeoIP_delete(g->v6);
#endif
    free(g);
}

bool gn_geo_country(const gn_geo *g, const uint8_t addr[16], char out[2])
{
    if (!g)
        return false;
    if (gn_geo_table_lookup(g->ovr, addr, out))
        return true;
#ifdef GN_HAVE_GEOIP
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    GeoIPLookup gl;
    int id = 0;
    if (!memcmp(addr, mapped, 12)) {
        if (!g->v4)
            return false;
        unsigned long ip = (unsigned long)addr[12] << 24 | (unsigned long)addr[13] << 16 |
                           (unsigned long)addr[14] << 8 | addr[15];
        id = GeoIP_id_by_ipnum_gl(g->v4, ip, &gl);
    } else {
        if (!g->v6)
            return false;
        geoipv6_t a;
        memcpy(&a, addr, 16);
        id = GeoIP_id_by_ipnum_v6_gl(g->v6, a, &gl);
    }
    const char *cc = id > 0 ? GeoIP_code_by_id(id) : NULL;
    if (!cc || cc[0] == '-' || !cc[1] || cc[2])
        return false;
    out[0] = cc[0];
    out[1] = cc[1];
    return true;
#else
    return false;
#endif
}

void gn_geo_describe(const gn_geo *g, char *out, size_t len)
{
    snprintf(out, len, "%s", g ? g->what : "none");
}
