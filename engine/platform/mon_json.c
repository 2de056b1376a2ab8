/* engine/platform/mon_json.c — the bounded JSON writer of the monitoring
 * messages (see mon_json.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/platform/mon_json.h"

static void init(gn_mjson *j, char *buf, size_t cap)
{
    j->p = buf;
    j->n = 0;
    j->cap = cap;
    j->cut = cap == 0;
    j->open = false;
    if (cap)
        buf[0] = 0;
}

/* Append s[0..len) as is, or mark the object cut (keeping one byte for NUL). */
static bool put(gn_mjson *j, const char *s, size_t len)
{
    if (j->cut || j->n + len >= j->cap) {
        j->cut = true;
        return false;
    }
    memcpy(j->p + j->n, s, len);
    j->n += len;
    j->p[j->n] = 0;
    return true;
}

void gn_mjson_begin(gn_mjson *j, char *buf, size_t cap)
{
    init(j, buf, cap);
    put(j, "{", 1);
}

void gn_mjson_begin_fields(gn_mjson *j, char *buf, size_t cap)
{
    init(j, buf, cap);
}

/* ,"key": */
static void key(gn_mjson *j, const char *k)
{
    if (j->open)
        put(j, ",", 1);
    j->open = true;
    put(j, "\"", 1);
    put(j, k, strlen(k));
    put(j, "\":", 2);
}

static void escaped(gn_mjson *j, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len && !j->cut; i++) {
        uint8_t ch = s[i];
        if (ch == '"' || ch == '\\') {
            char e[2] = { '\\', (char)ch };
            put(j, e, 2);
        } else if (ch < 0x20 || ch == 0x7F) {
            char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
            put(j, e, 6);
        } else {
            put(j, (const char *)&s[i], 1);
        }
    }
}

void gn_mjson_str(gn_mjson *j, const char *k, const uint8_t *s, size_t len)
{
    key(j, k);
    put(j, "\"", 1);
    escaped(j, s, len);
    put(j, "\"", 1);
}

void gn_mjson_cstr(gn_mjson *j, const char *k, const char *s)
{
    gn_mjson_str(j, k, (const uint8_t *)s, strlen(s));
}

void gn_mjson_u64(gn_mjson *j, const char *k, uint64_t v)
{
    char d[24];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    key(j, k);
    put(j, d, (size_t)n);
}

void gn_mjson_bool(gn_mjson *j, const char *k, bool v)
{
    key(j, k);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void gn_mjson_raw(gn_mjson *j, const char *fields, size_t len)
{
    if (!len)
        return;
    if (j->open)
        put(j, ",", 1);
    j->open = true;
    put(j, fields, len);
}

size_t gn_mjson_end(gn_mjson *j)
{
    put(j, "}", 1);
    return j->cut ? 0 : j->n;
}

size_t gn_mjson_fields_len(const gn_mjson *j)
{
    return j->cut ? 0 : j->n;
}

void gn_mjson_time(char out[GN_MJSON_TIME_LEN], uint64_t epoch_ms)
{
    time_t sec = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year, (unsigned)tm.tm_mon + 1u,
             (unsigned)tm.tm_mday, (unsigned)tm.tm_hour, (unsigned)tm.tm_min, (unsigned)tm.tm_sec,
             (unsigned)(epoch_ms % 1000));
    memcpy(out, tmp, GN_MJSON_TIME_LEN - 1);
    out[GN_MJSON_TIME_LEN - 1] = 0;
}
