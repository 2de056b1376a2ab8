/* engine/platform/monitor.c — the monitoring messages and the per-shard
 * file of connected clients that survives a restart (see monitor.h).
 *
 * The file's record format is in mon_file.h (which reads it back). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/close_codes.h"
#include "engine/platform/mon_file.h"
#include "engine/platform/mon_json.h"
#include "engine/platform/monitor.h"
#include "engine/platform/platform_int.h"
#include "engine/shard.h"

enum {
    GN_PMON_NONE = 0,
    GN_PMON_ATTEMPT,       /* fields known, no CONNACK 0 yet: FailedConnect on close */
    GN_PMON_CONNECTED,     /* Connect published: Disconnect on close */
    GN_PMON_DONE,          /* Disconnect published (takeover) */
};

#define MON_PATH_MAX     4200
#define MON_JSON_MAX     2048            /* a monitoring message */
#define MON_FIELDS_MAX   1200            /* the fixed fields (escaped id and user) */
#define MON_USER_MAX     256             /* user names longer are cut */
#define MON_COMPACT_MIN  (64u << 10)     /* files below this are never compacted */
#define MON_RECOVERY_REASON "The connection was closed by the server: the server stopped " \
                            "without closing it and was restarted"

typedef struct mon_shard {
    int      fd;                 /* -1 until the first write */
    bool     broken;             /* the file cannot be opened: records are dropped */
    char    *out;                /* records of this turn */
    size_t   out_len, out_cap;
    uint32_t next_serial;
    uint64_t file_bytes;         /* bytes in the file */
    uint64_t live_bytes;         /* bytes of its '+' records still connected */
    char     path[MON_PATH_MAX];
} mon_shard;

struct gn_mon {
    uint16_t        nshards;
    _Atomic int     recovered;   /* release after the previous run's Disconnects; acquire before publishing */
    pthread_mutex_t mu;          /* one shard runs the recovery */
    char            base[MON_PATH_MAX - 16];
    mon_shard      *shards;
};

static gn_mon *mon_of(const gn_shard *s) { return s->eng->plat->mon; }

gn_mon *gn_mon_create(const char *registry_path, uint16_t nshards)
{
    gn_mon *m = calloc(1, sizeof *m);
    if (!m || !(m->shards = calloc(nshards, sizeof *m->shards))) {
        free(m);
        return NULL;
    }
    m->nshards = nshards;
    pthread_mutex_init(&m->mu, NULL);
    snprintf(m->base, sizeof m->base, "%s", registry_path);
    for (uint16_t i = 0; i < nshards; i++) {
        m->shards[i].fd = -1;
        m->shards[i].next_serial = 1;
        snprintf(m->shards[i].path, sizeof m->shards[i].path, "%s.mon.%u", m->base, (unsigned)i);
    }
    return m;
}

/* ------------------------------------------------------------ file records */

static void out_add(mon_shard *ms, const char *p, size_t n)
{
    if (ms->out_len + n > ms->out_cap) {
        size_t cap = ms->out_cap ? ms->out_cap : 4096;
        while (cap < ms->out_len + n)
            cap *= 2;
        char *q = realloc(ms->out, cap);
        if (!q) {
            gn_log_warn("monitor: out of memory keeping the connected-client record");
            return;
        }
        ms->out = q;
        ms->out_cap = cap;
    }
    memcpy(ms->out + ms->out_len, p, n);
    ms->out_len += n;
}

static const char *mon_topic(const gn_pmon *pm) { return pm->buf; }
static const char *mon_fields(const gn_pmon *pm) { return pm->buf + pm->topic_len + 1; }

/* The '+' record of a connected client into ms->out; its length. */
static size_t record_connected(mon_shard *ms, const gn_pmon *pm)
{
    char head[64];
    int h = snprintf(head, sizeof head, "+\t%u\t%c\t%llu\t", (unsigned)pm->serial,
                     pm->clears ? 'a' : 'd', (unsigned long long)pm->connect_ms);
    out_add(ms, head, (size_t)h);
    out_add(ms, mon_topic(pm), pm->topic_len);
    out_add(ms, "\t", 1);
    out_add(ms, mon_fields(pm), pm->fields_len);
    out_add(ms, "\n", 1);
    return (size_t)h + pm->topic_len + pm->fields_len + 2;
}

/* Open a record file; after a failure the shard keeps no records (one
 * warning, not one per turn). */
static int open_file(mon_shard *ms, const char *path, int extra)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | extra, 0600);
    if (fd < 0 && !ms->broken) {
        ms->broken = true;
        gn_log_warn("monitor: cannot open %s: %s (connected clients are not kept over a restart)",
                    path, strerror(errno));
    }
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Rewrite the file from the shard's connected clients (when it holds many
 * more closed records than live ones). */
static void compact(gn_shard *s, mon_shard *ms)
{
    char tmp[MON_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", ms->path);
    ms->out_len = 0;
    uint64_t live = 0;
    for (gn_conn *c = s->all; c; c = c->all_next)
        if (c->plat && c->plat->mon.state == GN_PMON_CONNECTED)
            live += record_connected(ms, &c->plat->mon);
    int fd = open_file(ms, tmp, O_TRUNC);
    if (fd < 0 || !write_all(fd, ms->out, ms->out_len) || rename(tmp, ms->path) != 0) {
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        ms->out_len = 0;
        return;
    }
    if (ms->fd >= 0)
        close(ms->fd);
    ms->fd = fd;
    ms->file_bytes = ms->live_bytes = live;
    ms->out_len = 0;
}

static void flush_shard(mon_shard *ms)
{
    if (!ms->out_len)
        return;
    if (ms->broken || (ms->fd < 0 && (ms->fd = open_file(ms, ms->path, O_APPEND)) < 0)) {
        ms->out_len = 0;
        return;
    }
    if (!write_all(ms->fd, ms->out, ms->out_len))
        gn_log_warn("monitor: writing %s: %s", ms->path, strerror(errno));
    ms->file_bytes += ms->out_len;
    ms->out_len = 0;
}

/* ---------------------------------------------------------------- publish */

/* After the grace period of a stop (the connections gn_sessions_fini
 * closes once the shard loop is over) nothing is routed any more: the
 * file record carries the Disconnect to the next start. */
static bool past_grace(const gn_shard *s)
{
    return s->stopping && s->now_ms >= s->stop_deadline;
}

static void publish(gn_shard *s, const char *topic, size_t tl, const char *js, size_t n,
                    bool retain, bool clear)
{
    if (!n || past_grace(s))
        return;
    if (clear && s->cfg.retain_available)
        gn_route_retain(&s->rc, (const uint8_t *)topic, tl, NULL);
    gn_plat_publish(s, topic, tl, js, n, retain);
}

/* A Connect (connect) or Disconnect of a client whose Disconnect clears
 * (pm->clears): the topic's count of connected clients and the retained
 * store change together, serialised against the other shards, so a member
 * connecting elsewhere while the last one leaves always ends retained
 * (S-020, S-105). Delivery is outside the critical section. */
static void publish_counted(gn_shard *s, gn_pmon *pm, const char *js, size_t n, bool connect)
{
    const char *topic = pm->buf;
    gn_msg *m = n && !past_grace(s) ? gn_plat_msg(s, topic, pm->topic_len, js, n, connect) : NULL;
    gn_plat_count_lock(pm->conns);
    bool store = connect ? gn_plat_count_take(pm->conns, 0) : gn_plat_count_release(pm->conns) == 0;
    if (store && m && s->cfg.retain_available)
        gn_route_retain(&s->rc, (const uint8_t *)topic, pm->topic_len, connect ? m : NULL);
    gn_plat_count_unlock(pm->conns);
    if (m) {
        gn_route_publish(s, m, false, 0);
        gn_msg_unref(m);
    }
}

static uint64_t epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* {"Action":..,"Time":..,<fields>[,"ConnectTime"][,"CloseCode","Reason"][,counters]} */
static size_t build(char *js, size_t cap, const char *action, const char *fields, size_t flen,
                    uint64_t connect_ms, uint16_t code, const char *reason, const gn_pconn *pc)
{
    char t[GN_MJSON_TIME_LEN];
    gn_mjson j;
    gn_mjson_begin(&j, js, cap);
    gn_mjson_cstr(&j, "Action", action);
    gn_mjson_time(t, epoch_ms());
    gn_mjson_cstr(&j, "Time", t);
    gn_mjson_raw(&j, fields, flen);
    if (connect_ms) {
        gn_mjson_time(t, connect_ms);
        gn_mjson_cstr(&j, "ConnectTime", t);
    }
    if (code) {
        gn_mjson_u64(&j, "CloseCode", code);
        gn_mjson_cstr(&j, "Reason", reason ? reason : gn_close_reason(code));
    }
    if (pc) {
        gn_mjson_u64(&j, "ReadBytes", pc->rx_bytes);
        gn_mjson_u64(&j, "ReadMsg", pc->rx_msgs);
        gn_mjson_u64(&j, "WriteBytes", pc->tx_bytes);
        gn_mjson_u64(&j, "WriteMsg", pc->tx_msgs);
    }
    return gn_mjson_end(&j);
}

/* ------------------------------------------------------------- recovery */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 65536 * 2;
            char *q = realloc(buf, cap);
            if (!q) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = q;
        }
        size_t k = fread(buf + n, 1, 65536, f);
        n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* The Disconnect of one client the previous run left connected. */
static void replay_one(void *ctx, const gn_monrec *r, bool graceful)
{
    gn_shard *s = ctx;
    char js[MON_JSON_MAX];
    size_t n = 0;
    if (r->kind == '+') {
        gn_pconn zero;
        memset(&zero, 0, sizeof zero);
        uint16_t code = graceful ? GN_CLOSE_SHUTDOWN : GN_CLOSE_BY_SERVER;
        n = build(js, sizeof js, "Disconnect", r->rest, strlen(r->rest), r->connect_ms, code,
                  graceful ? NULL : MON_RECOVERY_REASON, &zero);
    } else {
        n = strlen(r->rest);
        if (n >= sizeof js)
            n = 0;
        else
            memcpy(js, r->rest, n);
    }
    publish(s, r->topic, strlen(r->topic), js, n, !r->clears, r->clears);
}

/* Publish the Disconnects one file records; returns how many. */
static uint32_t recover_file(gn_shard *s, const char *path)
{
    size_t len = 0;
    char *buf = read_file(path, &len);
    if (!buf)
        return 0;
    bool graceful;
    long n = gn_monfile_replay(buf, len, &graceful, replay_one, s);
    if (n < 0)
        gn_log_warn("monitor: out of memory reading %s", path);
    free(buf);
    return n > 0 ? (uint32_t)n : 0;
}

/* The previous run's Disconnects, once, before this run publishes any
 * monitoring message. Files of shards beyond nshards (a run with more
 * shards) are read too. */
static void ensure_recovered(gn_shard *s)
{
    gn_mon *m = mon_of(s);
    if (atomic_load_explicit(&m->recovered, memory_order_acquire))
        return;
    pthread_mutex_lock(&m->mu);
    if (!atomic_load_explicit(&m->recovered, memory_order_relaxed)) {
        uint32_t total = 0;
        for (unsigned i = 0; i < GN_CONFIG_MAX_SHARDS; i++) {
            char path[MON_PATH_MAX];
            snprintf(path, sizeof path, "%s.mon.%u", m->base, i);
            if (access(path, F_OK) != 0)
                continue;
            total += recover_file(s, path);
            if (unlink(path) != 0)
                gn_log_warn("monitor: cannot remove %s: %s", path, strerror(errno));
        }
        if (total)
            gn_log_info("monitor: published %u Disconnect messages for clients of the previous run",
                        (unsigned)total);
        atomic_store_explicit(&m->recovered, 1, memory_order_release);
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---------------------------------------------------------------- hooks */

/* The seeds' names, "mqttv5-ws" included (seeds 000 and 001 both spell
 * it so). */
static const char *protocol_name(uint8_t proto, bool ws)
{
    switch (proto) {
    case GN_PROTO_V31: return ws ? "mqtt3-ws" : "mqtt3";
    case GN_PROTO_V311: return ws ? "mqtt4-ws" : "mqtt4";
    default: return ws ? "mqttv5-ws" : "mqtt5";
    }
}

/* The client's address without its port ("1.2.3.4:5" -> "1.2.3.4",
 * "[::1]:5" -> "::1"). */
static size_t client_ip(const char *addr, const char **out)
{
    size_t n = strlen(addr);
    const char *colon = strrchr(addr, ':');
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        *out = addr + 1;
        return close ? (size_t)(close - addr - 1) : n - 1;
    }
    *out = addr;
    return colon ? (size_t)(colon - addr) : n;
}

static unsigned server_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

void gn_mon_attempt(gn_conn *c, const gn_connect *cn, uint16_t close_code)
{
    gn_pconn *pc = c->plat;
    if (!pc || close_code == GN_CLOSE_CLIENT_ID || pc->mon.buf)
        return;                     /* no identity, hence no topic */
    const gn_pident *id = &pc->id;
    char topic[GN_PLAT_ORG_MAX + 2 * GN_PLAT_FIELD_MAX + 32];
    int tl;
    bool dev = id->cls == GN_PC_DEVICE || id->cls == GN_PC_GATEWAY;
    if (dev)
        tl = snprintf(topic, sizeof topic, "%s/iot-2/type/%s/id/%s/mon", id->org, id->type, id->id);
    else
        tl = snprintf(topic, sizeof topic, "%s/iot-2/app/%s/mon", id->org, id->id);
    if (tl <= 0 || (size_t)tl >= sizeof topic)
        return;

    char fields[MON_FIELDS_MAX];
    gn_mjson j;
    gn_mjson_begin_fields(&j, fields, sizeof fields);
    const char *ip;
    size_t ipl = client_ip(pc->addr, &ip);
    gn_mjson_str(&j, "ClientAddr", (const uint8_t *)ip, ipl);
    gn_mjson_str(&j, "ClientID", cn->client_id.ptr, cn->client_id.len);
    gn_mjson_u64(&j, "Port", server_port(c->fd));
    gn_mjson_bool(&j, "Secure", gn_conn_is_tls(c));
    gn_mjson_cstr(&j, "Protocol", protocol_name(c->proto, gn_conn_is_websocket(c)));
    if (cn->has_username)
        gn_mjson_str(&j, "User", cn->username.ptr,
                     cn->username.len < MON_USER_MAX ? cn->username.len : MON_USER_MAX);
    const char *certname = gn_conn_cert_cn(c);
    if (certname)
        gn_mjson_cstr(&j, "Certname", certname);
    size_t fl = gn_mjson_fields_len(&j);
    if (!fl)
        return;
    char *buf = malloc((size_t)tl + 1 + fl + 1);
    if (!buf)
        return;
    memcpy(buf, topic, (size_t)tl + 1);
    memcpy(buf + tl + 1, fields, fl + 1);
    pc->mon = (gn_pmon){
        .state = GN_PMON_ATTEMPT,
        .clears = !dev || id->quickstart,
        .topic_len = (uint16_t)tl,
        .fields_len = (uint16_t)fl,
        .buf = buf,
    };
}

void gn_mon_connected(gn_conn *c)
{
    gn_pconn *pc = c->plat;
    gn_pmon *pm = pc ? &pc->mon : NULL;
    if (!pm || pm->state != GN_PMON_ATTEMPT)
        return;
    gn_shard *s = c->shard;
    ensure_recovered(s);
    mon_shard *ms = &mon_of(s)->shards[s->id];
    pm->state = GN_PMON_CONNECTED;
    pm->connect_ms = epoch_ms();
    pm->serial = ms->next_serial++;
    pm->rec_len = (uint32_t)record_connected(ms, pm);
    ms->live_bytes += pm->rec_len;
    char js[MON_JSON_MAX];
    size_t n = build(js, sizeof js, "Connect", mon_fields(pm), pm->fields_len, 0, 0, NULL, NULL);
    if (pm->clears) {
        pm->conns = gn_plat_count(s->eng->plat, GN_COUNT_MON, mon_topic(pm), pm->topic_len, "", 0);
        publish_counted(s, pm, js, n, true);
    } else {
        publish(s, mon_topic(pm), pm->topic_len, js, n, true, false);
    }
}

/* Disconnect of a connected client: publish, and its file record. */
static void disconnected(gn_conn *c, uint16_t code)
{
    gn_shard *s = c->shard;
    gn_pconn *pc = c->plat;
    gn_pmon *pm = &pc->mon;
    ensure_recovered(s);
    mon_shard *ms = &mon_of(s)->shards[s->id];
    pm->state = GN_PMON_DONE;
    char js[MON_JSON_MAX];
    size_t n = build(js, sizeof js, "Disconnect", mon_fields(pm), pm->fields_len, pm->connect_ms,
                     code, NULL, pc);
    if (pm->clears)
        publish_counted(s, pm, js, n, false);
    else
        publish(s, mon_topic(pm), pm->topic_len, js, n, true, false);
    ms->live_bytes = ms->live_bytes > pm->rec_len ? ms->live_bytes - pm->rec_len : 0;
    char head[64];
    int h;
    if (code == GN_CLOSE_SHUTDOWN && n) {
        h = snprintf(head, sizeof head, "D\t%u\t%c\t", (unsigned)pm->serial, pm->clears ? 'a' : 'd');
        out_add(ms, head, (size_t)h);
        out_add(ms, mon_topic(pm), pm->topic_len);
        out_add(ms, "\t", 1);
        out_add(ms, js, n);
        out_add(ms, "\n", 1);
    } else {
        h = snprintf(head, sizeof head, "-\t%u\n", (unsigned)pm->serial);
        out_add(ms, head, (size_t)h);
    }
}

void gn_mon_taken_over(gn_conn *c)
{
    gn_pconn *pc = c->plat;
    if (!pc || pc->mon.state != GN_PMON_CONNECTED)
        return;
    disconnected(c, pc->close_set ? pc->close_code : GN_CLOSE_ID_REUSED);
}

void gn_mon_closed(gn_conn *c, uint16_t code)
{
    gn_pconn *pc = c->plat;
    if (!pc)
        return;
    gn_pmon *pm = &pc->mon;
    if (pm->state == GN_PMON_CONNECTED) {
        disconnected(c, code);
    } else if (pm->state == GN_PMON_ATTEMPT) {
        gn_shard *s = c->shard;
        ensure_recovered(s);
        char js[MON_JSON_MAX];
        size_t n = build(js, sizeof js, "FailedConnect", mon_fields(pm), pm->fields_len, 0,
                         code ? code : GN_CLOSE_BY_SERVER, NULL, NULL);
        publish(s, mon_topic(pm), pm->topic_len, js, n, false, false);
    }
    free(pm->buf);
    memset(pm, 0, sizeof *pm);
}

bool gn_mon_retained_filter(gn_conn *c, const uint8_t *f, size_t len, const uint8_t **out,
                            size_t *out_len)
{
    const gn_pident *id = &c->plat->id;
    char *buf = gn_plat_topic_in(c->shard);
    gn_ptopic_match m;
    if (gn_ptopic_subscribe(id, f, len, buf, GN_PLAT_TOPIC_BUF, out_len, &m) != GN_PT_OK)
        return false;
    *out = (const uint8_t *)buf;
    return true;
}

void gn_mon_turn(gn_shard *s)
{
    ensure_recovered(s);
}

void gn_mon_flush(gn_shard *s)
{
    mon_shard *ms = &mon_of(s)->shards[s->id];
    if (!ms->out_len)
        return;
    if (!s->stopping && ms->file_bytes > MON_COMPACT_MIN && ms->file_bytes > 4 * ms->live_bytes)
        compact(s, ms);
    else
        flush_shard(ms);
}

void gn_mon_destroy(gn_mon *m)
{
    if (!m)
        return;
    for (uint16_t i = 0; i < m->nshards; i++) {
        mon_shard *ms = &m->shards[i];
        if (atomic_load_explicit(&m->recovered, memory_order_acquire))
            out_add(ms, "S\n", 2);      /* graceful stop: what is left closed with 93 */
        flush_shard(ms);
        if (ms->fd >= 0)
            close(ms->fd);
        free(ms->out);
    }
    pthread_mutex_destroy(&m->mu);
    free(m->shards);
    free(m);
}
