/* engine/platform/geo_table.h — an operator's country table (S-038): the
 * "cidr,CC" lines of the platform_geoip_override file parsed into a
 * longest-prefix-match table (flattened into disjoint ranges: one binary
 * search per lookup), looked up before the geo-IP database (so a
 * test or a private network can give 127.0.0.1/32 or 10.0.0.0/8 a
 * country).
 *
 * File format: one "address[/bits],CC" per line (IPv4 or IPv6, CC two
 * letters, any case); blanks around fields, empty lines and lines starting
 * with '#' are ignored; CRLF accepted. A prefix listed twice is an error.
 *
 * Threading: parse on any thread; a built table is immutable and may be
 * looked up from every thread at once. Who frees: the caller of parse,
 * with gn_geo_table_free. */
#ifndef GN_PLATFORM_GEO_TABLE_H
#define GN_PLATFORM_GEO_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gn_geo_table gn_geo_table;

/* Parse text[0..len) (need not be NUL-terminated). NULL on a bad line or
 * no memory, with "line N: reason" in err. An empty file is an empty
 * table. */
gn_geo_table *gn_geo_table_parse(const char *text, size_t len, char *err, size_t errlen);
void gn_geo_table_free(gn_geo_table *t);

/* The country of addr (16 bytes, IPv4 as IPv4-mapped IPv6) by the longest
 * matching prefix: true and out[0..1] set, false when none matches. No
 * allocation. */
bool gn_geo_table_lookup(const gn_geo_table *t, const uint8_t addr[16], char out[2]);

/* Number of prefixes. */
size_t gn_geo_table_size(const gn_geo_table *t);

#endif
