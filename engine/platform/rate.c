/* engine/platform/rate.c — rate limits of platform connections (PLATFORM.md
 * sections 9 and 16; docs/PLATFORM.md "Rate limits and throttling"). Each
 * org uses one model, its setting rate_model:
 *   watson  read pacing by message units per second per connection, per
 *           class (S-094 ... S-097; Quickstart 1 msg/s, S-099), through
 *           engine/pace.h: over the budget the socket is not read;
 *   ioto    devices and gateways measured every 30 s over a minute
 *           (throttle_window.h, S-135 ... S-137); one over its limit gets a
 *           throttle message on ioto/device/{id}/mqtt/throttle (S-138), and
 *           one still over it after throttle_release_after measurements a
 *           last one with "close":true, then close 94 (S-140);
 *   off     neither.
 * The settings are read at CONNECT and again whenever the registry
 * snapshot changes (gannetctl takes effect on connected clients).
 * Shard thread only; the throttle state belongs to its connection. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/conn.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/pace.h"
#include "engine/platform/platform_int.h"
#include "engine/platform/throttle_window.h"
#include "engine/shard.h"

struct gn_pthrottle {
    gn_timer      timer;            /* the next measurement */
    gn_conn      *conn;
    gn_thr_window w;
    uint64_t      period_ms;        /* 30 s / platform_throttle_time_scale */
    uint64_t      period_end;       /* end of the current bucket (ms) */
    uint32_t      limit;            /* messages of 1 KB per device per hour */
    uint32_t      release_after;    /* 0: never */
    uint32_t      strikes;          /* consecutive measurements over the limit */
    uint64_t      sent;             /* throttle messages sent */
};

#define GN_THR_PERIOD_MS 30000u     /* S-136: measured every 30 s */

static bool is_device(const gn_pident *id)
{
    return id->cls == GN_PC_DEVICE || id->cls == GN_PC_GATEWAY;
}

/* ------------------------------------------------------------- Ioto */

static uint64_t epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* S-138: {"timestamp": epoch ms[, "close": true]} to the device's topic. */
static void send_throttle(gn_conn *c, bool close)
{
    gn_pconn *pc = c->plat;
    char t[GN_PLAT_ORG_MAX + GN_PLAT_FIELD_MAX + 40];
    int tl = snprintf(t, sizeof t, "%s/ioto/device/%s/mqtt/throttle", pc->id.org, pc->id.id);
    char js[96];
    int n = snprintf(js, sizeof js, "{\"timestamp\":%llu%s}", (unsigned long long)epoch_ms(),
                     close ? ",\"close\":true" : "");
    if (tl > 0 && (size_t)tl < sizeof t && n > 0 && (size_t)n < sizeof js)
        gn_plat_publish(c->shard, t, (size_t)tl, js, (size_t)n, false);
    pc->thr->sent++;
}

static void arm_next(gn_shard *s, struct gn_pthrottle *th)
{
    if (!gn_timer_armed(&th->timer))
        gn_timer_arm(&s->tw, &th->timer, th->period_end);
}

static void on_measure(gn_timer *t, uint64_t now_ms, void *ctx)
{
    gn_shard *s = ctx;
    struct gn_pthrottle *th = GN_CONTAINER_OF(t, struct gn_pthrottle, timer);
    gn_conn *c = th->conn;
    gn_pconn *pc = c->plat;
    uint64_t now = now_ms / th->period_ms;
    th->period_end = (now + 1) * th->period_ms;
    gn_thr_verdict v = gn_thr_measure(&th->w, now, th->limit);
    if (c->state != GN_CS_ACTIVE)
        return;
    if (!v.over) {
        th->strikes = 0;
    } else {
        th->strikes++;
        bool release = th->release_after && th->strikes >= th->release_after;
        gn_log_info("platform: throttle: %s sent %llu units in the last minute (limit %u/h, x%u)%s",
                    pc->cid, (unsigned long long)v.minute, th->limit, v.burst ? 8u : 4u,
                    release ? ": still over its limit, released" : "");
        send_throttle(c, release);
        if (release) {
            gn_mqtt_close(c, GN_CLOSE_ADMIN, true);         /* S-140 */
            return;
        }
    }
    /* Measure again while the next measurement's minute holds traffic. */
    if (v.minute || th->w.units[now % GN_THR_BUCKETS])
        arm_next(s, th);
}

static void throttle_stop(gn_shard *s, gn_pconn *pc)
{
    if (!pc->thr)
        return;
    gn_timer_cancel(&s->tw, &pc->thr->timer);
    free(pc->thr);
    pc->thr = NULL;
}

static void throttle_start(gn_conn *c, uint32_t limit, uint32_t release_after)
{
    gn_shard *s = c->shard;
    gn_pconn *pc = c->plat;
    uint32_t scale = s->cfg.platform_throttle_time_scale ? s->cfg.platform_throttle_time_scale : 1;
    uint64_t period_ms = GN_THR_PERIOD_MS / scale;
    if (!period_ms)
        period_ms = 1;
    struct gn_pthrottle *th = pc->thr;
    if (th && th->period_ms != period_ms)
        throttle_stop(s, pc);
    th = pc->thr;
    if (!th) {
        th = calloc(1, sizeof *th);
        if (!th)
            return;             /* out of memory: not throttled */
        gn_timer_init(&th->timer, on_measure);
        th->conn = c;
        th->period_ms = period_ms;
        uint64_t now = s->now_ms / period_ms;
        th->period_end = (now + 1) * period_ms;
        gn_thr_init(&th->w, now);
        pc->thr = th;
    }
    th->limit = limit;
    th->release_after = release_after;
}

void gn_plat_throttle_publish(gn_conn *c, size_t payload)
{
    gn_shard *s = c->shard;
    struct gn_pthrottle *th = c->plat->thr;
    if (s->now_ms >= th->period_end) {
        uint64_t now = s->now_ms / th->period_ms;
        th->period_end = (now + 1) * th->period_ms;
        gn_thr_advance(&th->w, now);
    }
    gn_thr_add_current(&th->w, gn_thr_units(payload));
    arm_next(s, th);
}

bool gn_plat_throttle_filter(const gn_pconn *pc, const uint8_t *f, size_t len, char *out,
                             size_t cap, size_t *out_len)
{
    if (!pc->thr)
        return false;
    /* ioto/device/{own id}/ then mqtt/throttle, mqtt/+, mqtt/# or # */
    static const char *const tails[] = {"mqtt/throttle", "mqtt/+", "mqtt/#", "#"};
    const gn_pident *id = &pc->id;
    size_t head = 12 + id->id_len + 1;
    if (len <= head || memcmp(f, "ioto/device/", 12) != 0 ||
        memcmp(f + 12, id->id, id->id_len) != 0 || f[12 + id->id_len] != '/')
        return false;
    bool ok = false;
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++)
        ok |= strlen(tails[i]) == len - head && memcmp(f + head, tails[i], len - head) == 0;
    if (!ok || id->org_len + 1 + len > cap)
        return false;
    memcpy(out, id->org, id->org_len);
    out[id->org_len] = '/';
    memcpy(out + id->org_len + 1, f, len);
    *out_len = id->org_len + 1 + len;
    return true;
}

/* ---------------------------------------------------------- the model */

void gn_plat_rate_apply(gn_conn *c, const gn_pdir_org *org)
{
    gn_shard *s = c->shard;
    gn_pconn *pc = c->plat;
    const gn_pident *id = &pc->id;
    uint32_t msgs = 0, bytes = 0, limit = org->throttle_limit;
    gn_pdir_type_rate tr = {0};
    if (is_device(id) && !id->quickstart)
        gn_pdir_type_rate_get(gn_plat_shard(s)->dir, id->org, id->org_len, id->type, id->type_len, &tr);
    if (org->rate_model == GN_PDIR_RATE_WATSON) {
        if (id->cls == GN_PC_DEVICE) {
            msgs = org->rate_device_msgs;
            bytes = org->rate_device_bytes;
        } else if (id->cls == GN_PC_GATEWAY) {
            msgs = org->rate_gateway_msgs;
            bytes = org->rate_gateway_bytes;
        } else {
            msgs = org->rate_app_msgs;
            bytes = org->rate_app_bytes;
        }
    }
    /* "10 msg/s or 40 KB/s": units of bytes / msgs (4 KB), S-097 */
    uint32_t unit = msgs ? bytes / msgs : 0;
    if (msgs && tr.rate_msgs) {                     /* the device type's own rate */
        msgs = tr.rate_msgs;
        if (tr.rate_bytes)
            unit = tr.rate_bytes / msgs;
    }
    if (tr.throttle_limit)
        limit = tr.throttle_limit;
    uint32_t was = c->pace ? c->pace->rate : 0;
    if (gn_conn_pace_set(c, msgs, unit) < 0)
        gn_log_warn("platform: %s: out of memory for its rate limit", pc->cid);
    else if (c->state == GN_CS_ACTIVE && was != msgs)
        gn_log_info("platform: %s: rate limit %u message units/s (was %u; 0 = none)", pc->cid, msgs, was);
    if (org->rate_model == GN_PDIR_RATE_IOTO && is_device(id) && limit)
        throttle_start(c, limit, org->throttle_release_after);
    else
        throttle_stop(s, pc);
}

void gn_plat_rate_release(gn_conn *c)
{
    throttle_stop(c->shard, c->plat);
}

void gn_plat_rate_refresh(gn_shard *s)
{
    gn_pshard *ps = gn_plat_shard(s);
    uint64_t gen = gn_pdir_generation(ps->dir);
    if (gen == ps->rate_gen)
        return;
    ps->rate_gen = gen;
    for (gn_conn *c = s->all; c; c = c->all_next) {
        gn_pconn *pc = c->plat;
        if (!pc || c->state != GN_CS_ACTIVE)
            continue;
        gn_pdir_org org;
        if (gn_pdir_org_get(ps->dir, pc->id.org, pc->id.org_len, &org) == GN_PDIR_OK)
            gn_plat_rate_apply(c, &org);
    }
}
