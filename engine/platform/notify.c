/* engine/platform/notify.c — gateway notifications (PLATFORM.md S-062 …
 * S-064): when a gateway's publish or subscribe fails topic validation,
 * the resource-group check or auto-registration, a JSON message goes to
 * the gateway's own iot-2/type/{gwType}/id/{gwId}/notify topic at QoS 0,
 * not retained. Fields as the proxy writes them: Request capitalised
 * ("Publish", "Subscribe", "Unsubscribe") and RC an integer (S-063). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/platform_int.h"
#include "engine/session.h"
#include "engine/shard.h"

/* A bounded JSON text under construction (never overflows; cut at cap). */
typedef struct jbuf {
    char  *p;
    size_t n, cap;
} jbuf;

static void jfmt(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jfmt(jbuf *b, const char *fmt, ...)
{
    if (b->n + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n = b->n + (size_t)k < b->cap - 1 ? b->n + (size_t)k : b->cap - 1;
}

/* The body of a JSON string for s[0..len), escaped. */
static void jstr(jbuf *b, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *out = b->p;
    size_t n = b->n, cap = b->cap;
    for (size_t i = 0; i < len && n + 7 < cap; i++) {
        uint8_t ch = s[i];
        if (ch == '"' || ch == '\\') {
            out[n++] = '\\';
            out[n++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7F) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = hex[ch >> 4];
            out[n + 5] = hex[ch & 15];
            n += 6;
        } else {
            out[n++] = (char)ch;
        }
    }
    out[n] = 0;
    b->n = n;
}

void gn_plat_notify(gn_conn *c, const char *request, const uint8_t *topic, size_t topic_len,
                    const gn_ptopic_match *m, uint16_t rc, const char *message)
{
    gn_shard *s = c->shard;
    const gn_pident *g = &c->plat->id;
    char t[GN_PLAT_ORG_MAX + 2 * GN_PLAT_FIELD_MAX + 32];
    int tl = snprintf(t, sizeof t, "%s/iot-2/type/%s/id/%s/notify", g->org, g->type, g->id);
    if (tl <= 0 || (size_t)tl >= sizeof t)
        return;

    char js[1024];
    jbuf b = { js, 0, sizeof js };
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    jfmt(&b, "{\"Request\":\"%s\",\"Time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"Topic\":\"",
         request, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
         ts.tv_nsec / 1000000);
    jstr(&b, topic, topic_len < 400 ? topic_len : 400);
    jfmt(&b, "\"");
    if (m && m->names_device && m->type && m->id) {
        jfmt(&b, ",\"Type\":\"");
        jstr(&b, m->type, m->type_len);
        jfmt(&b, "\",\"Id\":\"");
        jstr(&b, m->id, m->id_len);
        jfmt(&b, "\"");
    }
    jfmt(&b, ",\"Client\":\"");
    jstr(&b, (const uint8_t *)c->plat->cid, strlen(c->plat->cid));
    jfmt(&b, "\",\"RC\":%u,\"Message\":\"", (unsigned)rc);
    jstr(&b, (const uint8_t *)message, strlen(message));
    jfmt(&b, "\"}");
    size_t n = b.n;
    gn_log_debug("notify %s: %.*s", c->plat->cid, (int)n, js);
    gn_plat_publish(s, t, (size_t)tl, js, n, false);
}
