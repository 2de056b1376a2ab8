/* bench/loadgen/opts.c — command-line parsing, per-mode defaults and the
 * --help text of gnload. */
#include "bench/loadgen/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const mode_names[] = {
    [GL_MODE_INGEST] = "ingest", [GL_MODE_FANIN] = "fanin",
    [GL_MODE_FANOUT] = "fanout", [GL_MODE_SHARED] = "shared",
    [GL_MODE_STORM]  = "storm",  [GL_MODE_IDLE]   = "idle",
};

const char *gl_mode_name(gl_mode m)
{
    return mode_names[m];
}

bool gl_mode_has_subs(gl_mode m)
{
    return m == GL_MODE_FANIN || m == GL_MODE_FANOUT || m == GL_MODE_SHARED;
}

static void usage(FILE *f)
{
    fputs(
"usage: gnload [options]\n"
"  MQTT load generator: pre-encoded, pipelined publishes over non-blocking\n"
"  sockets (epoll); prints rates, loss, duplicates, latency percentiles and\n"
"  CPU use (its own, and the broker's with --broker-pid).\n"
"\n"
"  --host H            broker address (127.0.0.1)\n"
"  --port P            broker port (1883)\n"
"  --mode M            ingest | fanin | fanout | shared | storm | idle (ingest)\n"
"  --pubs N            publishers (ingest/fanin 4, fanout/shared 1)\n"
"  --subs N            subscribers (fanin 1, fanout 8, shared 4)\n"
"  --conns N           idle: connections to hold (1000); storm: attempts in flight (32)\n"
"  --threads T         event-loop threads (1)\n"
"  --qos Q             0, 1 or 2, for publishes and subscriptions (0)\n"
"  --payload B         payload bytes, >= 16: publisher id, sequence, timestamp (16)\n"
"  --seconds S         send phase (idle: hold time) in seconds (5)\n"
"  --count N           stop after N messages in total (0: run for --seconds)\n"
"  --rate R            offered messages/s over all publishers, 0 = max (0)\n"
"  --pace-us U         with --rate: send every U microseconds what is due\n"
"                      (1..1000; 0 = the default: 1 ms sleeps, up to 10 ms\n"
"                      of messages in one burst after a late wake-up)\n"
"  --pace-spin         with --pace-us: wait for each period on the clock (a\n"
"                      busy core) instead of sleeping, so a slow wake-up of\n"
"                      an idle CPU does not turn periods into bursts\n"
"  --topic PATTERN     publish topic, %p = publisher index (gnload/%p)\n"
"  --filter F          subscription filter (the topic with %p -> '+')\n"
"  --client-id PATTERN client id, %p = connection index (gnload-TAG-ROLEn);\n"
"                      e.g. d:abc123:bench:p%p for platform mode; storm: %n\n"
"                      (or %p) = attempt number, %t = run tag, %w = worker\n"
"                      (gnload-%t-%n)\n"
"  --username U        CONNECT user name (none), e.g. use-token-auth\n"
"  --password P        CONNECT password (none)\n"
"  --sub-client-id P   subscribers' client id pattern (as --client-id), e.g. the\n"
"                      shared A:org:app of a scalable application's members\n"
"  --sub-username U    subscribers' user name (--username)\n"
"  --sub-password P    subscribers' password (--password)\n"
"  --protocol 4|5      MQTT 3.1.1 or 5.0 (4)\n"
"  --window W          QoS>0 in-flight messages per publisher (64; MQTT 5: at\n"
"                      most the broker's receive maximum)\n"
"  --drain S           max seconds to wait for in-flight deliveries (2)\n"
"  --keepalive S       keep alive in CONNECT; PINGREQ at half of it (60)\n"
"  --settle S          idle: wait before sampling broker RSS (1)\n"
"  --setup-timeout S   connect/subscribe deadline (30)\n"
"  --credentials FILE  storm: per-attempt identities, lines 'clientid [user [password]]',\n"
"                      attempt k uses line k mod lines (the client id is a\n"
"                      template too); overrides the three options above\n"
"  --storm-io M        uring (linked socket/connect/send/recv/close chains,\n"
"                      default), reuse (io_uring chains that keep each slot's\n"
"                      socket: connect/send/recv, then connect(AF_UNSPEC), an\n"
"                      RST) or epoll (the non-blocking socket loop)\n"
"  --broker-pid PID    sample broker CPU (/proc/PID/stat) and RSS (VmRSS)\n"
"  --json              print one JSON line\n"
"  --tls               TLS (1.2 or 1.3); --tls12: TLS 1.2 only\n"
"  --cafile F          verify the broker against CA file F (implies --tls)\n"
"  --cert F --key K    client certificate and key (implies --tls)\n"
"  --ws                MQTT over WebSockets (with --tls: over TLS)\n"
"  --ws-path P         WebSocket upgrade path (/mqtt; implies --ws)\n"
"  --help\n", f);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s[0] == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0) || v > 86400.0)
        return false;
    *out = v;
    return true;
}

enum {
    O_HOST = 256, O_PORT, O_MODE, O_PUBS, O_SUBS, O_CONNS, O_THREADS, O_QOS,
    O_PAYLOAD, O_SECONDS, O_COUNT, O_RATE, O_TOPIC, O_FILTER, O_CLIENT_ID, O_USER, O_PASS, O_PROTOCOL,
    O_WINDOW, O_DRAIN, O_KEEPALIVE, O_SETTLE, O_SETUP, O_BPID, O_JSON, O_HELP,
    O_TLS, O_TLS12, O_CAFILE, O_CERT, O_KEY, O_WS, O_WS_PATH,
    O_CREDENTIALS, O_STORM_IO, O_SUB_CLIENT_ID, O_SUB_USER, O_SUB_PASS, O_PACE, O_PACE_SPIN,
};

static const struct option longopts[] = {
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"mode", required_argument, NULL, O_MODE},
    {"pubs", required_argument, NULL, O_PUBS},
    {"subs", required_argument, NULL, O_SUBS},
    {"conns", required_argument, NULL, O_CONNS},
    {"threads", required_argument, NULL, O_THREADS},
    {"qos", required_argument, NULL, O_QOS},
    {"payload", required_argument, NULL, O_PAYLOAD},
    {"seconds", required_argument, NULL, O_SECONDS},
    {"count", required_argument, NULL, O_COUNT},
    {"rate", required_argument, NULL, O_RATE},
    {"topic", required_argument, NULL, O_TOPIC},
    {"filter", required_argument, NULL, O_FILTER},
    {"client-id", required_argument, NULL, O_CLIENT_ID},
    {"username", required_argument, NULL, O_USER},
    {"password", required_argument, NULL, O_PASS},
    {"protocol", required_argument, NULL, O_PROTOCOL},
    {"window", required_argument, NULL, O_WINDOW},
    {"drain", required_argument, NULL, O_DRAIN},
    {"keepalive", required_argument, NULL, O_KEEPALIVE},
    {"settle", required_argument, NULL, O_SETTLE},
    {"setup-timeout", required_argument, NULL, O_SETUP},
    {"broker-pid", required_argument, NULL, O_BPID},
    {"json", no_argument, NULL, O_JSON},
    {"help", no_argument, NULL, O_HELP},
    {"tls", no_argument, NULL, O_TLS},
    {"tls12", no_argument, NULL, O_TLS12},
    {"cafile", required_argument, NULL, O_CAFILE},
    {"cert", required_argument, NULL, O_CERT},
    {"key", required_argument, NULL, O_KEY},
    {"ws", no_argument, NULL, O_WS},
    {"ws-path", required_argument, NULL, O_WS_PATH},
    {"credentials", required_argument, NULL, O_CREDENTIALS},
    {"storm-io", required_argument, NULL, O_STORM_IO},
    {"sub-client-id", required_argument, NULL, O_SUB_CLIENT_ID},
    {"sub-username", required_argument, NULL, O_SUB_USER},
    {"sub-password", required_argument, NULL, O_SUB_PASS},
    {"pace-us", required_argument, NULL, O_PACE},
    {"pace-spin", no_argument, NULL, O_PACE_SPIN},
    {NULL, 0, NULL, 0},
};

gl_status gl_opts_parse(int argc, char **argv, gl_opts *o, bool *help_only)
{
    int64_t pubs = -1, subs = -1, conns = -1;
    uint64_t v = 0;
    *help_only = false;
    *o = (gl_opts){
        .host = "127.0.0.1", .port = 1883, .mode = GL_MODE_INGEST,
        .threads = 1, .qos = 0, .payload = GL_PAYLOAD_MIN, .seconds = 5.0,
        .topic = "gnload/%p", .protocol = 4, .window = 64, .drain = 2.0,
        .keepalive = 60, .settle = 1.0, .setup_timeout = 30.0, .ws_path = "/mqtt",
    };
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1)
            break;
        const char *a = optarg;
        bool ok = true;
        switch (c) {
        case O_HOST: o->host = a; break;
        case O_TLS: o->tls = true; break;
        case O_TLS12: o->tls = true; o->tls_version = 12; break;
        case O_CAFILE: o->tls = true; o->tls_ca = a; break;
        case O_CERT: o->tls = true; o->tls_cert = a; break;
        case O_KEY: o->tls = true; o->tls_key = a; break;
        case O_WS: o->ws = true; break;
        case O_WS_PATH: o->ws = true; o->ws_path = a; break;
        case O_PORT: ok = parse_u64(a, 65535, &v) && v > 0; o->port = (uint16_t)v; break;
        case O_MODE: {
            ok = false;
            for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
                if (strcmp(a, mode_names[i]) == 0) {
                    o->mode = (gl_mode)i;
                    ok = true;
                }
            break;
        }
        case O_PUBS: ok = parse_u64(a, GL_PUB_ID_MASK, &v); pubs = (int64_t)v; break;
        case O_SUBS: ok = parse_u64(a, 100000, &v); subs = (int64_t)v; break;
        case O_CONNS: ok = parse_u64(a, 1000000, &v) && v > 0; conns = (int64_t)v; break;
        case O_THREADS: ok = parse_u64(a, 64, &v) && v > 0; o->threads = (uint32_t)v; break;
        case O_QOS: ok = parse_u64(a, 2, &v); o->qos = (uint8_t)v; break;
        case O_PAYLOAD: ok = parse_u64(a, 64u << 20, &v) && v >= GL_PAYLOAD_MIN; o->payload = (uint32_t)v; break;
        case O_SECONDS: ok = parse_seconds(a, &o->seconds); break;
        case O_COUNT: ok = parse_u64(a, UINT64_MAX, &o->count); break;
        case O_RATE: ok = parse_u64(a, UINT64_MAX, &o->rate); break;
        case O_TOPIC: o->topic = a; ok = a[0] != '\0'; break;
        case O_FILTER: o->filter = a; ok = a[0] != '\0'; break;
        case O_CLIENT_ID: o->client_id = a; ok = a[0] != '\0'; break;
        case O_USER: o->username = a; break;
        case O_PASS: o->password = a; break;
        case O_SUB_CLIENT_ID: o->sub_client_id = a; break;
        case O_SUB_USER: o->sub_username = a; break;
        case O_SUB_PASS: o->sub_password = a; break;
        case O_PROTOCOL: ok = parse_u64(a, 5, &v) && (v == 4 || v == 5); o->protocol = (uint8_t)v; break;
        case O_WINDOW: ok = parse_u64(a, 65535, &v) && v > 0; o->window = (uint32_t)v; break;
        case O_DRAIN: ok = parse_seconds(a, &o->drain); break;
        case O_KEEPALIVE: ok = parse_u64(a, 65535, &v); o->keepalive = (uint16_t)v; break;
        case O_SETTLE: ok = parse_seconds(a, &o->settle); break;
        case O_SETUP: ok = parse_seconds(a, &o->setup_timeout) && o->setup_timeout > 0; break;
        case O_BPID: ok = parse_u64(a, 0x7fffffff, &v) && v > 0; o->broker_pid = (pid_t)v; break;
        case O_JSON: o->json = true; break;
        case O_HELP: usage(stdout); *help_only = true; return GL_OK;
        case O_CREDENTIALS: o->credentials = a; ok = a[0] != '\0'; break;
        case O_PACE: ok = parse_u64(a, 1000, &v); o->pace_us = (uint32_t)v; break;
        case O_PACE_SPIN: o->pace_spin = true; break;
        case O_STORM_IO:
            ok = strcmp(a, "uring") == 0 || strcmp(a, "epoll") == 0 || strcmp(a, "reuse") == 0;
            o->storm_epoll = strcmp(a, "epoll") == 0;
            o->storm_reuse = strcmp(a, "reuse") == 0;
            break;
        default: usage(stderr); return GL_ERR_USAGE;
        }
        if (!ok) {
            fprintf(stderr, "gnload: bad value for --%s: '%s'\n",
                    longopts[c - O_HOST].name, a ? a : "");
            return GL_ERR_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gnload: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return GL_ERR_USAGE;
    }

    static const uint32_t def_pubs[] = {4, 4, 1, 1, 0, 0};
    static const uint32_t def_subs[] = {0, 1, 8, 4, 0, 0};
    o->pubs = pubs >= 0 ? (uint32_t)pubs : def_pubs[o->mode];
    o->subs = subs >= 0 ? (uint32_t)subs : def_subs[o->mode];
    o->conns = conns >= 0 ? (uint32_t)conns : (o->mode == GL_MODE_IDLE ? 1000u : 32u);
    if (o->mode == GL_MODE_INGEST)
        o->subs = 0;
    if (o->mode == GL_MODE_STORM || o->mode == GL_MODE_IDLE)
        o->pubs = o->subs = 0;
    if ((o->mode != GL_MODE_STORM && o->mode != GL_MODE_IDLE) && o->pubs == 0) {
        fprintf(stderr, "gnload: mode %s needs --pubs >= 1\n", gl_mode_name(o->mode));
        return GL_ERR_USAGE;
    }
    if (gl_mode_has_subs(o->mode) && o->subs == 0) {
        fprintf(stderr, "gnload: mode %s needs --subs >= 1\n", gl_mode_name(o->mode));
        return GL_ERR_USAGE;
    }
    if (o->seconds <= 0.0 && o->count == 0) {
        fprintf(stderr, "gnload: give --seconds > 0 or --count\n");
        return GL_ERR_USAGE;
    }
    if (o->password && !o->username && o->protocol != 5) {
        fprintf(stderr, "gnload: MQTT 3.1.1 allows a password only with a username\n");
        return GL_ERR_USAGE;
    }
    if (o->pace_spin && (o->pace_us == 0 || o->rate == 0)) {
        fprintf(stderr, "gnload: --pace-spin needs --rate and --pace-us\n");
        return GL_ERR_USAGE;
    }
    o->run_tag = ((uint32_t)getpid() * 2654435761u) >> 20;   /* 12 bits */
    return GL_OK;
}
