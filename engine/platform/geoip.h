/* engine/platform/geoip.h — the country of a peer address for the org
 * country lists (PLATFORM.md S-038): the operator's override table
 * (engine/platform/geo_table.h) first, then Debian's geoip-database
 * country files (GeoIP.dat, GeoIPv6.dat) read through libGeoIP into
 * memory at start. Built without libGeoIP (meson -Dgeoip=disabled) only
 * the override table answers.
 *
 * Threading: open and close on the controlling thread before the shards
 * start / after they stop; gn_geo_country from any thread at once (the
 * tables are read-only; libGeoIP's *_gl lookups keep their state on the
 * caller's stack). */
#ifndef GN_PLATFORM_GEOIP_H
#define GN_PLATFORM_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gn_geo gn_geo;

/* Load the databases and the override file. db4 / db6: paths ("" = none);
 * a missing database file is not an error (its family has no country; the
 * start-up line says so). override_path: "" = none; a file that cannot be
 * read or has a bad line is an error (NULL, reason in err). */
gn_geo *gn_geo_open(const char *db4, const char *db6, const char *override_path, char *err,
                    size_t errlen);
void gn_geo_close(gn_geo *g);

/* Country of addr (16 bytes, IPv4 as IPv4-mapped IPv6): true with two
 * upper-case letters in out, false when unknown. g may be NULL (unknown). */
bool gn_geo_country(const gn_geo *g, const uint8_t addr[16], char out[2]);

/* One line for the start-up log: what answers lookups. */
void gn_geo_describe(const gn_geo *g, char *out, size_t len);

#endif
