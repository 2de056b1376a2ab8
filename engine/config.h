/* engine/config.h — gn_config: every setting of a Gannet engine, its
 * embedded defaults, the config-file parser and validation.
 *
 * File format (mosquitto-like): one "key value" per line, separated by
 * spaces or tabs; '#' starts a comment (at line start or after
 * whitespace); blank lines are ignored; a key may appear again (the last
 * value wins). Booleans: true/false, yes/no, on/off, 1/0. Sizes accept
 * k/m/g suffixes (1024-based) where the key is a byte count; durations are
 * plain milliseconds or seconds as the key's name says. Unknown keys and
 * bad values are errors reported as "FILE:LINE: key 'x': reason".
 * docs/CONFIGURATION.md lists every key; gn_config_dump prints them in the
 * same format, so its output loads back to an equal config.
 *
 * Reloading (SIGHUP): keys marked "reload" below are applied to a running
 * engine by gn_engine_reload; the others ("restart") need a restart and are
 * reported by gn_config_static_diff.
 *
 * Threading: plain data and pure functions; a gn_config is owned by whoever
 * holds it, and gn_engine_create copies it. */
#ifndef GN_ENGINE_CONFIG_H
#define GN_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/log.h"

#define GN_CONFIG_ADDR_MAX     64          /* listen_address buffer, NUL included */
#define GN_CONFIG_MAX_SHARDS   256
#define GN_MQTT_MAX_PACKET     268435460u  /* 5-byte fixed header + 268435455 */
#define GN_SESSION_EXPIRY_NEVER UINT32_MAX
#define GN_CONFIG_PATH_MAX     256         /* platform_registry buffer, NUL included */

/* What the engine is: a plain MQTT broker, or the platform's ingestion tier
 * (engine/platform/: identities, authentication, topic spaces, limits). */
typedef enum gn_mode {
    GN_MODE_PLAIN = 0,
    GN_MODE_PLATFORM = 1,
} gn_mode;

/* Client certificates on TLS listeners (tls_client_cert). */
typedef enum gn_tls_client_cert {
    GN_TLS_CERT_NONE = 0,       /* not asked for */
    GN_TLS_CERT_OPTIONAL = 1,   /* asked for; verified against tls_ca_file when sent */
    GN_TLS_CERT_REQUIRED = 2,   /* handshake fails without a valid one */
} gn_tls_client_cert;

/* What a client offering no ALPN on alpn_port gets (alpn_default). */
typedef enum gn_alpn_default {
    GN_ALPN_DEFAULT_MQTT = 0,
    GN_ALPN_DEFAULT_WEBSOCKETS = 1,
} gn_alpn_default;

typedef struct gn_config {
    /* --- listener (restart) */
    char     listen_address[GN_CONFIG_ADDR_MAX]; /* IPv4 or IPv6 literal; "0.0.0.0" */
    uint16_t port;                        /* 1883; 0 = one kernel-chosen port shared by all shards */
    uint32_t listen_backlog;              /* 4096 */
    bool     tcp_nodelay;                 /* true */

    /* --- TLS and WebSocket listeners (restart; docs/TLS.md). A listener is
     * off while its port is 0; the TLS ones also stay off until
     * tls_cert_file and tls_key_file are set. */
    uint16_t tls_port;                    /* 8883: MQTT over TLS */
    uint16_t alpn_port;                   /* 0 (443 usual): TLS, ALPN "mqtt" or "http/1.1" (WebSockets) */
    uint16_t ws_port;                     /* 0 (8080 usual): MQTT over WebSockets */
    uint16_t wss_port;                    /* 0 (8443 usual): MQTT over WebSockets over TLS */
    char     tls_cert_file[GN_CONFIG_PATH_MAX]; /* "": server certificate chain (PEM) */
    char     tls_key_file[GN_CONFIG_PATH_MAX];  /* "": its private key (PEM) */
    char     tls_ca_file[GN_CONFIG_PATH_MAX];   /* "": CA bundle client certificates are verified against */
    uint8_t  tls_client_cert;             /* gn_tls_client_cert: none */
    uint8_t  tls_min_version;             /* 12 (TLS 1.2) or 13 (TLS 1.3 only); 1.3 is always offered */
    char     tls_ciphers[GN_CONFIG_PATH_MAX];      /* "": OpenSSL's default TLS 1.2 cipher list */
    char     tls_ciphersuites[GN_CONFIG_PATH_MAX]; /* "": OpenSSL's default TLS 1.3 suites */
    uint8_t  alpn_default;                /* gn_alpn_default: mqtt */
    char     ws_path[GN_CONFIG_PATH_MAX]; /* "/mqtt": the WebSocket upgrade path */
    uint32_t ws_max_frame;                /* 1048576 (1 MiB): largest WebSocket frame payload accepted */

    /* --- shards and io_uring (restart) */
    uint32_t shards;                      /* online CPUs (1 .. GN_CONFIG_MAX_SHARDS) */
    bool     pin_threads;                 /* true: shard i pinned to the i-th allowed CPU */
    uint32_t shard_slice_us;              /* 0: the kernel's slice; else each shard thread's EEVDF
                                             slice in us (100..100000, gn_thread_set_slice) */
    uint32_t shard_poll_us;               /* 0: block at once when idle; else busy-poll the ring this
                                             long first (0..10000) */
    bool     sqpoll;                      /* false: IORING_SETUP_SQPOLL, a polling kernel thread per shard */
    uint32_t sqpoll_idle_ms;              /* 1000 */
    uint32_t uring_entries;               /* 4096 submission queue entries per shard */
    uint32_t rx_buffer_size;              /* 16384 bytes per provided receive buffer */
    uint32_t rx_buffer_count;             /* 512 buffers per shard (power of two) */
    uint32_t xshard_ring_slots;           /* 4096 slots per ordered shard pair (power of two) */

    /* --- connections and protocol limits (reload; apply to new connections) */
    uint32_t max_connections;             /* 0 = limited only by RLIMIT_NOFILE */
    uint32_t connect_timeout_ms;          /* 60000: close if no CONNECT by then */
    uint32_t max_packet_size;             /* 1048576 (1 MiB); up to GN_MQTT_MAX_PACKET */
    uint16_t receive_maximum;             /* 1024: inbound QoS>=1 window we advertise */
    uint16_t max_inflight_messages;       /* 256: outbound QoS>=1 window per client (also capped by its receive maximum) */
    uint32_t max_queued_messages;         /* 1000: QoS>=1 queued per session before publishers feeding it are paused */
    uint32_t qos0_high_water_bytes;       /* 1048576: outbound bytes per connection past which QoS 0 is dropped (counted) */
    uint16_t max_keepalive;               /* 65535: larger / zero client values are lowered to this (v5 Server Keep Alive) */
    uint16_t server_keep_alive;           /* 0 = off; else imposed on MQTT 5 clients */
    uint8_t  max_qos;                     /* 2 */
    bool     retain_available;            /* true */
    bool     wildcard_subscription_available;    /* true */
    bool     shared_subscription_available;      /* true */
    bool     subscription_identifier_available;  /* true */
    uint16_t max_topic_alias;             /* 10: Topic Alias Maximum accepted from clients (0 = none) */
    uint32_t max_session_expiry_interval; /* seconds; GN_SESSION_EXPIRY_NEVER = no cap */
    bool     allow_zero_length_clientid;  /* true */
    bool     allow_anonymous;             /* true: gannetd logs a warning */
    uint32_t rate_limit;                  /* 0 = off: plain mode message units per second per connection (reads paused above it) */
    uint32_t rate_unit_bytes;             /* 4096: payload bytes per extra message unit (1 + payload / this) */

    /* --- platform mode (mode: restart; platform_registry: restart; the
     * limits: reload, applied to new connections). docs/CONFIGURATION.md */
    gn_mode  mode;                        /* plain */
    char     platform_registry[GN_CONFIG_PATH_MAX]; /* registry database file */
    uint32_t platform_max_payload;        /* 131072: payload + topic bytes beyond 200 (287) */
    uint32_t platform_first_packet_max;   /* 65536: bytes of the first packet (165) */
    uint32_t platform_max_connections;    /* 0 = none: connections of the server (104) */
    uint32_t platform_max_org_connections; /* 0 = none: connections per org (173) */
    uint32_t platform_max_app_groups;     /* 10, 0 = none: A shared groups per org (S-100, SUBACK 0x97) */
    uint32_t platform_max_app_instances;  /* 50, 0 = none: connected members per A app (S-100, 173) */
    uint32_t platform_max_subscriptions_device; /* 50 (154) */
    uint32_t platform_max_subscriptions_app;    /* 500 (154), gateways too */
    uint32_t platform_max_auth_per_second; /* 0 = none: token hashes per shard per second (176) */
    uint32_t platform_queue_depth_device; /* 50: per subscription, oldest dropped (S-087) */
    uint32_t platform_queue_depth_app;    /* 5000 (S-086), gateways too */
    uint16_t platform_inflight_device;    /* 10 (S-090) */
    uint16_t platform_inflight_gateway;   /* 1000 */
    uint16_t platform_inflight_app;       /* 2000 */
    uint16_t platform_topic_alias_max;    /* 8 (S-091) */
    uint16_t platform_shared_keepalive_max; /* 3600: A: clients (S-073) */
    bool     platform_scalable_clean_only; /* true: A:org:app needs cleansession=1 (S-021) */
    uint32_t platform_throttle_time_scale; /* 1: Ioto throttling's clock runs this many times faster (tests only) */
    /* Country lists (S-038, restart): Debian's geoip-database files and an
     * operator's "cidr,CC" override file, looked up first. */
    char     platform_geoip_db[GN_CONFIG_PATH_MAX];    /* /usr/share/GeoIP/GeoIP.dat */
    char     platform_geoip_db_v6[GN_CONFIG_PATH_MAX]; /* /usr/share/GeoIP/GeoIPv6.dat */
    char     platform_geoip_override[GN_CONFIG_PATH_MAX]; /* "": none */

    /* --- platform registry (restart; read only in platform mode) */
    uint32_t registry_poll_interval_ms;   /* 100: how often the registry thread looks for store changes */
    uint32_t registry_token_cache;        /* 4096: verified tokens remembered per shard (0 = none) */
    uint32_t registry_autoreg_retry_s;    /* 600: a failed auto-registration is not retried for this long (S-060) */

    /* --- process (reload) */
    uint32_t shutdown_grace_ms;           /* 2000 */
    gn_log_level log_level;               /* info */
} gn_config;

/* Fill cfg with the embedded defaults (shards = online CPUs, capped at
 * GN_CONFIG_MAX_SHARDS). Never fails. */
void gn_config_defaults(gn_config *cfg);

/* Set one key from its text value (what a config line or a CLI override
 * says). On error returns -1, cfg unchanged, and err holds
 * "key 'k': reason" (or "unknown key 'k'"). Returns 0 on success. */
int gn_config_set(gn_config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Apply every line of the file at path on top of cfg (call
 * gn_config_defaults first). Returns 0, or -1 with err "path:line: ..."
 * (or "path: strerror" when it cannot be read); on error cfg may hold the
 * lines before the bad one. Lines longer than 4095 bytes are errors. */
int gn_config_load_file(gn_config *cfg, const char *path, char *err, size_t errlen);

/* Same over a NUL-terminated text; name is used in messages. */
int gn_config_load_string(gn_config *cfg, const char *name, const char *text,
                          char *err, size_t errlen);

/* Cross-field checks (address parses, buffers fit a ring, shards in range,
 * rx_buffer_count power of two, ...). Returns 0 or -1 with a one-line err. */
int gn_config_validate(const gn_config *cfg, char *err, size_t errlen);

/* Print every key as a "key value" line (loadable by gn_config_load_file),
 * with a comment line saying reload/restart. Returns 0 or -1 on I/O error. */
int gn_config_dump(const gn_config *cfg, FILE *out);

/* Is key reloadable by SIGHUP? -1 for an unknown key, else 0 / 1. */
int gn_config_key_reloadable(const char *key);

/* List, comma-separated into out, the restart-only keys whose values differ
 * between a and b ("" when none). Returns how many differ. */
int gn_config_static_diff(const gn_config *a, const gn_config *b, char *out, size_t outlen);

#endif
