/* engine/config.c — gn_config defaults, the "key value" file parser, value
 * checks and dump. One table (keys[]) describes every key: its type, where
 * it lives in gn_config, its range, and whether SIGHUP reloads it; parse,
 * dump, reloadability and the static diff are all driven by it. */
#include "engine/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4095
#define FILE_MAX_BYTES (1u << 20)

typedef enum key_type {
    K_BOOL,      /* bool */
    K_U8,        /* uint8_t */
    K_U16,       /* uint16_t */
    K_U32,       /* uint32_t */
    K_BYTES32,   /* uint32_t, accepts k/m/g suffixes */
    K_EXPIRY,    /* uint32_t seconds, "never" = GN_SESSION_EXPIRY_NEVER */
    K_ADDR,      /* char[GN_CONFIG_ADDR_MAX], IP literal */
    K_LEVEL,     /* gn_log_level */
    K_MODE,      /* gn_mode: plain | platform */
    K_PATH,      /* char[GN_CONFIG_PATH_MAX], a file path or other text; "" (two quotes) = empty */
    K_CERTMODE,  /* uint8_t gn_tls_client_cert: none | optional | required */
    K_TLSVER,    /* uint8_t 12 | 13, written 1.2 | 1.3 */
    K_ALPNDEF,   /* uint8_t gn_alpn_default: mqtt | websockets */
} key_type;

typedef struct key_def {
    const char *name;
    key_type    type;
    size_t      off;
    uint64_t    min, max;
    bool        pow2;       /* value must be a power of two */
    bool        reload;     /* applied by SIGHUP */
} key_def;

#define F(field) offsetof(gn_config, field)

static const key_def keys[] = {
    { "listen_address",    K_ADDR,    F(listen_address),    0, 0, false, false },
    { "port",              K_U16,     F(port),              0, 65535, false, false },
    { "listen_backlog",    K_U32,     F(listen_backlog),    1, 65535, false, false },
    { "tcp_nodelay",       K_BOOL,    F(tcp_nodelay),       0, 1, false, false },
    { "tls_port",          K_U16,     F(tls_port),          0, 65535, false, false },
    { "alpn_port",         K_U16,     F(alpn_port),         0, 65535, false, false },
    { "ws_port",           K_U16,     F(ws_port),           0, 65535, false, false },
    { "wss_port",          K_U16,     F(wss_port),          0, 65535, false, false },
    { "tls_cert_file",     K_PATH,    F(tls_cert_file),     0, 0, false, false },
    { "tls_key_file",      K_PATH,    F(tls_key_file),      0, 0, false, false },
    { "tls_ca_file",       K_PATH,    F(tls_ca_file),       0, 0, false, false },
    { "tls_client_cert",   K_CERTMODE, F(tls_client_cert),  0, 2, false, false },
    { "tls_min_version",   K_TLSVER,  F(tls_min_version),   12, 13, false, false },
    { "tls_ciphers",       K_PATH,    F(tls_ciphers),       0, 0, false, false },
    { "tls_ciphersuites",  K_PATH,    F(tls_ciphersuites),  0, 0, false, false },
    { "alpn_default",      K_ALPNDEF, F(alpn_default),      0, 1, false, false },
    { "ws_path",           K_PATH,    F(ws_path),           0, 0, false, false },
    { "ws_max_frame",      K_BYTES32, F(ws_max_frame),      128, 1u << 28, false, false },
    { "shards",            K_U32,     F(shards),            1, GN_CONFIG_MAX_SHARDS, false, false },
    { "pin_threads",       K_BOOL,    F(pin_threads),       0, 1, false, false },
    { "shard_slice_us",    K_U32,     F(shard_slice_us),    0, 100000, false, false },
    { "shard_poll_us",     K_U32,     F(shard_poll_us),     0, 10000, false, false },
    { "sqpoll",            K_BOOL,    F(sqpoll),            0, 1, false, false },
    { "sqpoll_idle_ms",    K_U32,     F(sqpoll_idle_ms),    1, 60000, false, false },
    { "uring_entries",     K_U32,     F(uring_entries),     64, 32768, true, false },
    { "rx_buffer_size",    K_BYTES32, F(rx_buffer_size),    1024, 1u << 20, false, false },
    { "rx_buffer_count",   K_U32,     F(rx_buffer_count),   8, 32768, true, false },
    { "xshard_ring_slots", K_U32,     F(xshard_ring_slots), 64, 1u << 24, true, false },

    { "max_connections",   K_U32,     F(max_connections),   0, UINT32_MAX, false, true },
    { "connect_timeout_ms", K_U32,    F(connect_timeout_ms), 10, 86400000, false, true },
    { "max_packet_size",   K_BYTES32, F(max_packet_size),   128, GN_MQTT_MAX_PACKET, false, true },
    { "receive_maximum",   K_U16,     F(receive_maximum),   1, 65535, false, true },
    { "max_inflight_messages", K_U16, F(max_inflight_messages), 1, 65535, false, true },
    { "max_queued_messages", K_U32,   F(max_queued_messages), 1, 100000000, false, true },
    { "qos0_high_water_bytes", K_BYTES32, F(qos0_high_water_bytes), 1024, 1u << 30, false, true },
    { "max_keepalive",     K_U16,     F(max_keepalive),     1, 65535, false, true },
    { "server_keep_alive", K_U16,     F(server_keep_alive), 0, 65535, false, true },
    { "max_qos",           K_U8,      F(max_qos),           0, 2, false, true },
    { "retain_available",  K_BOOL,    F(retain_available),  0, 1, false, true },
    { "wildcard_subscription_available", K_BOOL, F(wildcard_subscription_available), 0, 1, false, true },
    { "shared_subscription_available", K_BOOL, F(shared_subscription_available), 0, 1, false, true },
    { "subscription_identifier_available", K_BOOL, F(subscription_identifier_available), 0, 1, false, true },
    { "max_topic_alias",   K_U16,     F(max_topic_alias),   0, 65535, false, true },
    { "max_session_expiry_interval", K_EXPIRY, F(max_session_expiry_interval), 0, UINT32_MAX, false, true },
    { "allow_zero_length_clientid", K_BOOL, F(allow_zero_length_clientid), 0, 1, false, true },
    { "allow_anonymous",   K_BOOL,    F(allow_anonymous),   0, 1, false, true },
    { "rate_limit",        K_U32,     F(rate_limit),        0, UINT32_MAX, false, true },
    { "rate_unit_bytes",   K_BYTES32, F(rate_unit_bytes),   0, 1u << 30, false, true },

    { "mode",              K_MODE,    F(mode),              0, 0, false, false },
    { "platform_registry", K_PATH,    F(platform_registry), 0, 0, false, false },
    { "platform_max_payload", K_BYTES32, F(platform_max_payload), 1, 1u << 28, false, true },
    { "platform_first_packet_max", K_BYTES32, F(platform_first_packet_max), 128, 1u << 28, false, true },
    { "platform_max_connections", K_U32, F(platform_max_connections), 0, UINT32_MAX, false, true },
    { "platform_max_org_connections", K_U32, F(platform_max_org_connections), 0, UINT32_MAX, false, true },
    { "platform_max_subscriptions_device", K_U32, F(platform_max_subscriptions_device), 1, 1000000, false, true },
    { "platform_max_subscriptions_app", K_U32, F(platform_max_subscriptions_app), 1, 1000000, false, true },
    { "platform_max_auth_per_second", K_U32, F(platform_max_auth_per_second), 0, UINT32_MAX, false, true },
    { "platform_queue_depth_device", K_U32, F(platform_queue_depth_device), 1, 100000000, false, true },
    { "platform_queue_depth_app", K_U32, F(platform_queue_depth_app), 1, 100000000, false, true },
    { "platform_inflight_device", K_U16, F(platform_inflight_device), 1, 65535, false, true },
    { "platform_inflight_gateway", K_U16, F(platform_inflight_gateway), 1, 65535, false, true },
    { "platform_inflight_app", K_U16, F(platform_inflight_app), 1, 65535, false, true },
    { "platform_topic_alias_max", K_U16, F(platform_topic_alias_max), 0, 65535, false, true },
    { "platform_shared_keepalive_max", K_U16, F(platform_shared_keepalive_max), 1, 65535, false, true },
    { "platform_max_app_groups", K_U32, F(platform_max_app_groups), 0, UINT32_MAX, false, true },
    { "platform_max_app_instances", K_U32, F(platform_max_app_instances), 0, UINT32_MAX, false, true },
    { "platform_scalable_clean_only", K_BOOL, F(platform_scalable_clean_only), 0, 1, false, true },
    { "platform_throttle_time_scale", K_U32, F(platform_throttle_time_scale), 1, 3600, false, true },
    { "platform_geoip_db", K_PATH, F(platform_geoip_db), 0, 0, false, false },
    { "platform_geoip_db_v6", K_PATH, F(platform_geoip_db_v6), 0, 0, false, false },
    { "platform_geoip_override", K_PATH, F(platform_geoip_override), 0, 0, false, false },
    { "registry_poll_interval_ms", K_U32, F(registry_poll_interval_ms), 10, 60000, false, false },
    { "registry_token_cache", K_U32, F(registry_token_cache), 0, 1u << 24, false, false },
    { "registry_autoreg_retry_s", K_U32, F(registry_autoreg_retry_s), 0, 86400, false, false },

    { "shutdown_grace_ms", K_U32,     F(shutdown_grace_ms), 0, 600000, false, true },
    { "log_level",         K_LEVEL,   F(log_level),         0, 0, false, true },
};

#define NKEYS (sizeof keys / sizeof keys[0])

static uint32_t default_shards(void)
{
    long n = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    return n > GN_CONFIG_MAX_SHARDS ? GN_CONFIG_MAX_SHARDS : (uint32_t)n;
}

void gn_config_defaults(gn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen_address, "0.0.0.0");
    cfg->port = 1883;
    cfg->listen_backlog = 4096;
    cfg->tcp_nodelay = true;
    cfg->tls_port = 8883;
    cfg->tls_min_version = 12;
    strcpy(cfg->ws_path, "/mqtt");
    cfg->ws_max_frame = 1u << 20;
    cfg->shards = default_shards();
    cfg->pin_threads = true;
    cfg->sqpoll = false;
    cfg->sqpoll_idle_ms = 1000;
    cfg->uring_entries = 4096;
    cfg->rx_buffer_size = 16384;
    cfg->rx_buffer_count = 512;
    cfg->xshard_ring_slots = 4096;
    cfg->max_connections = 0;
    cfg->connect_timeout_ms = 60000;
    cfg->max_packet_size = 1u << 20;
    cfg->receive_maximum = 1024;
    cfg->max_inflight_messages = 256;
    cfg->max_queued_messages = 1000;
    cfg->qos0_high_water_bytes = 1u << 20;
    cfg->max_keepalive = 65535;
    cfg->server_keep_alive = 0;
    cfg->max_qos = 2;
    cfg->retain_available = true;
    cfg->wildcard_subscription_available = true;
    cfg->shared_subscription_available = true;
    cfg->subscription_identifier_available = true;
    cfg->max_topic_alias = 10;
    cfg->max_session_expiry_interval = GN_SESSION_EXPIRY_NEVER;
    cfg->allow_zero_length_clientid = true;
    cfg->allow_anonymous = true;
    cfg->rate_limit = 0;
    cfg->rate_unit_bytes = 4096;
    cfg->mode = GN_MODE_PLAIN;
    strcpy(cfg->platform_registry, "/var/lib/gannet/registry.db");
    strcpy(cfg->platform_geoip_db, "/usr/share/GeoIP/GeoIP.dat");
    strcpy(cfg->platform_geoip_db_v6, "/usr/share/GeoIP/GeoIPv6.dat");
    cfg->platform_max_payload = 131072;
    cfg->platform_first_packet_max = 65536;
    cfg->platform_max_connections = 0;
    cfg->platform_max_org_connections = 0;
    cfg->platform_max_app_groups = 10;
    cfg->platform_max_app_instances = 50;
    cfg->platform_max_subscriptions_device = 50;
    cfg->platform_max_subscriptions_app = 500;
    cfg->platform_max_auth_per_second = 0;
    cfg->platform_queue_depth_device = 50;
    cfg->platform_queue_depth_app = 5000;
    cfg->platform_inflight_device = 10;
    cfg->platform_inflight_gateway = 1000;
    cfg->platform_inflight_app = 2000;
    cfg->platform_topic_alias_max = 8;
    cfg->platform_shared_keepalive_max = 3600;
    cfg->platform_scalable_clean_only = true;
    cfg->platform_throttle_time_scale = 1;
    cfg->registry_poll_interval_ms = 100;
    cfg->registry_token_cache = 4096;
    cfg->registry_autoreg_retry_s = 600;
    cfg->shutdown_grace_ms = 2000;
    cfg->log_level = GN_LOG_INFO;
}

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const key_def *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Decimal unsigned, optional k/m/g (1024-based) suffix when `suffixes`.
 * Returns 0, -1 malformed, -2 out of uint64 range. */
static int parse_uint(const char *v, bool suffixes, uint64_t *out)
{
    if (!isdigit((unsigned char)v[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno == ERANGE)
        return -2;
    uint64_t mult = 1;
    if (suffixes && *end != '\0' && end[1] == '\0') {
        switch (*end) {
        case 'k': case 'K': mult = UINT64_C(1) << 10; end++; break;
        case 'm': case 'M': mult = UINT64_C(1) << 20; end++; break;
        case 'g': case 'G': mult = UINT64_C(1) << 30; end++; break;
        default: break;
        }
    }
    if (*end != '\0')
        return -1;
    if (n > UINT64_MAX / mult)
        return -2;
    *out = (uint64_t)n * mult;
    return 0;
}

static bool is_ip_literal(const char *v)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, v, buf) == 1 || inet_pton(AF_INET6, v, buf) == 1;
}

/* The words of an enumerated key type, indexed by the stored value
 * (K_TLSVER stores 12 + index); NULL for other types. */
static const char *const *enum_words(key_type t, size_t *n, unsigned *base)
{
    static const char *const certmode[] = { "none", "optional", "required" };
    static const char *const tlsver[] = { "1.2", "1.3" };
    static const char *const alpndef[] = { "mqtt", "websockets" };
    *base = 0;
    switch (t) {
    case K_CERTMODE: *n = 3; return certmode;
    case K_TLSVER: *n = 2; *base = 12; return tlsver;
    case K_ALPNDEF: *n = 2; return alpndef;
    default: *n = 0; return NULL;
    }
}

static int set_key(gn_config *cfg, const key_def *k, const char *value, char *err, size_t errlen)
{
    char *field = (char *)cfg + k->off;
    if (value[0] == '\0') {
        errf(err, errlen, "key '%s': missing value", k->name);
        return -1;
    }
    switch (k->type) {
    case K_BOOL: {
        bool b;
        if (parse_bool(value, &b) != 0) {
            errf(err, errlen, "key '%s': '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
                 k->name, value);
            return -1;
        }
        memcpy(field, &b, sizeof b);
        return 0;
    }
    case K_ADDR:
        if (strlen(value) >= GN_CONFIG_ADDR_MAX || !is_ip_literal(value)) {
            errf(err, errlen, "key '%s': '%s' is not an IPv4 or IPv6 address", k->name, value);
            return -1;
        }
        memset(field, 0, GN_CONFIG_ADDR_MAX);
        memcpy(field, value, strlen(value));
        return 0;
    case K_LEVEL: {
        gn_log_level l;
        if (gn_log_level_parse(value, &l) != 0) {
            errf(err, errlen, "key '%s': '%s' is not one of error, warn, info, debug", k->name, value);
            return -1;
        }
        memcpy(field, &l, sizeof l);
        return 0;
    }
    case K_MODE: {
        gn_mode m;
        if (strcmp(value, "plain") == 0)
            m = GN_MODE_PLAIN;
        else if (strcmp(value, "platform") == 0)
            m = GN_MODE_PLATFORM;
        else {
            errf(err, errlen, "key '%s': '%s' is not one of plain, platform", k->name, value);
            return -1;
        }
        memcpy(field, &m, sizeof m);
        return 0;
    }
    case K_PATH:
        if (strcmp(value, "\"\"") == 0)
            value = "";
        if (strlen(value) >= GN_CONFIG_PATH_MAX) {
            errf(err, errlen, "key '%s': path longer than %d bytes", k->name, GN_CONFIG_PATH_MAX - 1);
            return -1;
        }
        memset(field, 0, GN_CONFIG_PATH_MAX);
        memcpy(field, value, strlen(value));
        return 0;
    case K_CERTMODE: case K_TLSVER: case K_ALPNDEF: {
        size_t nw;
        unsigned base;
        const char *const *w = enum_words(k->type, &nw, &base);
        for (size_t i = 0; i < nw; i++) {
            if (strcasecmp(value, w[i]) == 0) {
                uint8_t v = (uint8_t)(base + i);
                memcpy(field, &v, sizeof v);
                return 0;
            }
        }
        errf(err, errlen, "key '%s': '%s' is not one of %s%s%s%s%s", k->name, value, w[0],
             nw > 1 ? ", " : "", nw > 1 ? w[1] : "", nw > 2 ? ", " : "", nw > 2 ? w[2] : "");
        return -1;
    }
    case K_EXPIRY:
        if (strcasecmp(value, "never") == 0) {
            uint32_t v = GN_SESSION_EXPIRY_NEVER;
            memcpy(field, &v, sizeof v);
            return 0;
        }
        break;
    default:
        break;
    }

    uint64_t n;
    int rc = parse_uint(value, k->type == K_BYTES32, &n);
    if (rc == -1) {
        errf(err, errlen, "key '%s': '%s' is not a %s", k->name, value,
             k->type == K_BYTES32 ? "byte count (digits, optional k/m/g)"
             : k->type == K_EXPIRY ? "number of seconds or 'never'" : "non-negative integer");
        return -1;
    }
    if (rc == -2 || n < k->min || n > k->max) {
        errf(err, errlen, "key '%s': %s out of range %llu..%llu", k->name, value,
             (unsigned long long)k->min, (unsigned long long)k->max);
        return -1;
    }
    if (k->pow2 && (n & (n - 1)) != 0) {
        errf(err, errlen, "key '%s': %s is not a power of two", k->name, value);
        return -1;
    }
    switch (k->type) {
    case K_U8: { uint8_t v = (uint8_t)n; memcpy(field, &v, sizeof v); break; }
    case K_U16: { uint16_t v = (uint16_t)n; memcpy(field, &v, sizeof v); break; }
    default: { uint32_t v = (uint32_t)n; memcpy(field, &v, sizeof v); break; }
    }
    return 0;
}

/* "listener PORT [ADDRESS]", mosquitto's form: sets port (and address). */
static int set_listener(gn_config *cfg, const char *value, char *err, size_t errlen)
{
    char port[16], addr[GN_CONFIG_ADDR_MAX + 1], extra[2];
    int n = sscanf(value, "%15s %64s %1s", port, addr, extra);
    if (n < 1 || n > 2) {
        errf(err, errlen, "key 'listener': expected 'listener PORT [ADDRESS]'");
        return -1;
    }
    gn_config tmp = *cfg;
    char sub[256];
    if (set_key(&tmp, find_key("port"), port, sub, sizeof sub) != 0 ||
        (n == 2 && set_key(&tmp, find_key("listen_address"), addr, sub, sizeof sub) != 0)) {
        errf(err, errlen, "key 'listener': %s", sub);
        return -1;
    }
    *cfg = tmp;
    return 0;
}

int gn_config_set(gn_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    if (key == NULL || value == NULL) {
        errf(err, errlen, "missing key or value");
        return -1;
    }
    if (strcmp(key, "listener") == 0)
        return set_listener(cfg, value, err, errlen);
    const key_def *k = find_key(key);
    if (k == NULL) {
        errf(err, errlen, "unknown key '%s'", key);
        return -1;
    }
    return set_key(cfg, k, value, err, errlen);
}

/* One line (no newline, may be modified in place). Returns 0 or -1 with
 * err set (without the name:line prefix). */
static int apply_line(gn_config *cfg, char *line, char *err, size_t errlen)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    char *key = p;
    while (*p != '\0' && *p != ' ' && *p != '\t')
        p++;
    if (*p != '\0')
        *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    char *value = p;
    /* a '#' at the value's start or after whitespace starts a comment */
    for (char *q = value; *q != '\0'; q++) {
        if (*q == '#' && (q == value || q[-1] == ' ' || q[-1] == '\t')) {
            *q = '\0';
            break;
        }
    }
    size_t vlen = strlen(value);
    while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        value[--vlen] = '\0';
    for (char *q = key; *q != '\0'; q++) {
        if (!isprint((unsigned char)*q)) {
            errf(err, errlen, "key with a control or non-ASCII character");
            return -1;
        }
    }
    return gn_config_set(cfg, key, value, err, errlen);
}

int gn_config_load_string(gn_config *cfg, const char *name, const char *text, char *err, size_t errlen)
{
    char line[LINE_MAX_BYTES + 1];
    unsigned lineno = 0;
    const char *p = text;
    while (*p != '\0') {
        lineno++;
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len > LINE_MAX_BYTES) {
            errf(err, errlen, "%s:%u: line longer than %u bytes", name, lineno, LINE_MAX_BYTES);
            return -1;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        char sub[512];
        if (apply_line(cfg, line, sub, sizeof sub) != 0) {
            errf(err, errlen, "%s:%u: %s", name, lineno, sub);
            return -1;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return 0;
}

int gn_config_load_file(gn_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(FILE_MAX_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        errf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t n = fread(buf, 1, FILE_MAX_BYTES + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    int rc = -1;
    if (rd_err) {
        errf(err, errlen, "%s: read error", path);
    } else if (n > FILE_MAX_BYTES) {
        errf(err, errlen, "%s: larger than %u bytes", path, FILE_MAX_BYTES);
    } else if (memchr(buf, '\0', n) != NULL) {
        errf(err, errlen, "%s: contains a NUL byte (not a text file)", path);
    } else {
        buf[n] = '\0';
        rc = gn_config_load_string(cfg, path, buf, err, errlen);
    }
    free(buf);
    return rc;
}

int gn_config_validate(const gn_config *cfg, char *err, size_t errlen)
{
    if (!is_ip_literal(cfg->listen_address)) {
        errf(err, errlen, "listen_address '%.*s' is not an IPv4 or IPv6 address",
             GN_CONFIG_ADDR_MAX - 1, cfg->listen_address);
        return -1;
    }
    /* every numeric key back in its range (catches structs filled by hand) */
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        const char *field = (const char *)cfg + k->off;
        uint64_t v;
        switch (k->type) {
        case K_U8: case K_CERTMODE: case K_TLSVER: case K_ALPNDEF: { uint8_t x; memcpy(&x, field, sizeof x); v = x; break; }
        case K_U16: { uint16_t x; memcpy(&x, field, sizeof x); v = x; break; }
        case K_U32: case K_BYTES32: case K_EXPIRY: { uint32_t x; memcpy(&x, field, sizeof x); v = x; break; }
        case K_LEVEL:
            if ((int)cfg->log_level < GN_LOG_ERROR || (int)cfg->log_level > GN_LOG_DEBUG) {
                errf(err, errlen, "log_level %d is not a level", (int)cfg->log_level);
                return -1;
            }
            continue;
        default:
            continue;
        }
        if (v < k->min || v > k->max || (k->pow2 && (v & (v - 1)) != 0)) {
            errf(err, errlen, "%s %llu is out of range %llu..%llu%s", k->name, (unsigned long long)v,
                 (unsigned long long)k->min, (unsigned long long)k->max,
                 k->pow2 ? " or not a power of two" : "");
            return -1;
        }
    }
    if (cfg->shard_slice_us && cfg->shard_slice_us < 100) {
        errf(err, errlen, "shard_slice_us %u: 0 (the kernel's slice) or 100..100000", cfg->shard_slice_us);
        return -1;
    }
    if ((uint64_t)cfg->rx_buffer_size * cfg->rx_buffer_count > (UINT64_C(1) << 30)) {
        errf(err, errlen, "rx_buffer_size x rx_buffer_count is %llu bytes per shard, more than 1 GiB",
             (unsigned long long)cfg->rx_buffer_size * cfg->rx_buffer_count);
        return -1;
    }
    if (cfg->mode != GN_MODE_PLAIN && cfg->mode != GN_MODE_PLATFORM) {
        errf(err, errlen, "mode %d is not plain or platform", (int)cfg->mode);
        return -1;
    }
    if (cfg->mode == GN_MODE_PLATFORM && cfg->platform_registry[0] == '\0') {
        errf(err, errlen, "mode platform needs platform_registry (the registry database file)");
        return -1;
    }
    if (cfg->ws_path[0] != '/' || strpbrk(cfg->ws_path, " \t\r\n?#") != NULL) {
        errf(err, errlen, "ws_path '%s' must start with '/' and hold no spaces, '?' or '#'", cfg->ws_path);
        return -1;
    }
    if ((cfg->tls_cert_file[0] == '\0') != (cfg->tls_key_file[0] == '\0')) {
        errf(err, errlen, "tls_cert_file and tls_key_file go together (set both or neither)");
        return -1;
    }
    if (cfg->tls_client_cert != GN_TLS_CERT_NONE && cfg->tls_ca_file[0] == '\0') {
        errf(err, errlen, "tls_client_cert %s needs tls_ca_file (the CA client certificates are verified against)",
             cfg->tls_client_cert == GN_TLS_CERT_REQUIRED ? "required" : "optional");
        return -1;
    }
    if (cfg->server_keep_alive > cfg->max_keepalive) {
        errf(err, errlen, "server_keep_alive %u is above max_keepalive %u",
             (unsigned)cfg->server_keep_alive, (unsigned)cfg->max_keepalive);
        return -1;
    }
    return 0;
}

/* Text of one key's value, as gn_config_set accepts it. */
static void format_value(const gn_config *cfg, const key_def *k, char *out, size_t outlen)
{
    const char *field = (const char *)cfg + k->off;
    switch (k->type) {
    case K_BOOL: { bool b; memcpy(&b, field, sizeof b); snprintf(out, outlen, "%s", b ? "true" : "false"); break; }
    case K_U8: { uint8_t x; memcpy(&x, field, sizeof x); snprintf(out, outlen, "%u", (unsigned)x); break; }
    case K_U16: { uint16_t x; memcpy(&x, field, sizeof x); snprintf(out, outlen, "%u", (unsigned)x); break; }
    case K_U32: case K_BYTES32: { uint32_t x; memcpy(&x, field, sizeof x); snprintf(out, outlen, "%lu", (unsigned long)x); break; }
    case K_EXPIRY: {
        uint32_t x;
        memcpy(&x, field, sizeof x);
        if (x == GN_SESSION_EXPIRY_NEVER)
            snprintf(out, outlen, "never");
        else
            snprintf(out, outlen, "%lu", (unsigned long)x);
        break;
    }
    case K_ADDR: snprintf(out, outlen, "%.*s", GN_CONFIG_ADDR_MAX - 1, field); break;
    case K_LEVEL: snprintf(out, outlen, "%s", gn_log_level_name(cfg->log_level)); break;
    case K_MODE: snprintf(out, outlen, "%s", cfg->mode == GN_MODE_PLATFORM ? "platform" : "plain"); break;
    case K_PATH: snprintf(out, outlen, "%.*s", GN_CONFIG_PATH_MAX - 1, field[0] ? field : "\"\""); break;
    case K_CERTMODE: case K_TLSVER: case K_ALPNDEF: {
        size_t nw;
        unsigned base;
        const char *const *w = enum_words(k->type, &nw, &base);
        uint8_t x;
        memcpy(&x, field, sizeof x);
        snprintf(out, outlen, "%s", x >= base && x - base < nw ? w[x - base] : "?");
        break;
    }
    }
}

int gn_config_dump(const gn_config *cfg, FILE *out)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char v[GN_CONFIG_PATH_MAX + 32];
        format_value(cfg, &keys[i], v, sizeof v);
        if (fprintf(out, "%-34s %-16s # %s\n", keys[i].name, v, keys[i].reload ? "reload" : "restart") < 0)
            return -1;
    }
    return fflush(out) == 0 ? 0 : -1;
}

int gn_config_key_reloadable(const char *key)
{
    if (key != NULL && strcmp(key, "listener") == 0)
        return 0;
    const key_def *k = key != NULL ? find_key(key) : NULL;
    return k == NULL ? -1 : k->reload ? 1 : 0;
}

int gn_config_static_diff(const gn_config *a, const gn_config *b, char *out, size_t outlen)
{
    int count = 0;
    size_t used = 0;
    if (out != NULL && outlen > 0)
        out[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].reload)
            continue;
        char va[GN_CONFIG_PATH_MAX + 32], vb[GN_CONFIG_PATH_MAX + 32];
        format_value(a, &keys[i], va, sizeof va);
        format_value(b, &keys[i], vb, sizeof vb);
        if (strcmp(va, vb) == 0)
            continue;
        count++;
        if (out != NULL && used < outlen) {
            int n = snprintf(out + used, outlen - used, "%s%s", count > 1 ? ", " : "", keys[i].name);
            if (n > 0)
                used += (size_t)n < outlen - used ? (size_t)n : outlen - used;
        }
    }
    return count;
}
