/* tools/gannetd/main.c — gannetd, the Gannet MQTT broker daemon: command
 * line and config file in, one libgannet engine run, signals handled in the
 * main thread.
 *
 * SIGTERM / SIGINT / SIGHUP are blocked before any thread exists, so every
 * engine thread inherits the mask and the main thread alone takes them with
 * sigwaitinfo: SIGTERM/SIGINT stop the engine gracefully, SIGHUP reloads the
 * config file (command-line overrides still win) and applies what can be
 * applied to the running engine. A helper thread waits for the engine and
 * wakes the main thread (SIGUSR1) if it stops on its own.
 *
 * Exit status: 0 clean stop, 1 runtime failure, 2 usage or config error. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/gannet.h"
#include "engine/log.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2
#define MAX_OVERRIDES 64

typedef struct override {
    const char *key;
    const char *value;
} override;

typedef struct options {
    const char *config_path;          /* NULL: embedded defaults only */
    override    overrides[MAX_OVERRIDES];
    int         noverrides;
    bool        print_config;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gannetd [-c FILE] [-p PORT] [-t SHARDS] [-o KEY=VALUE]... [-v]\n"
            "               [--print-config] [--help] [--version]\n"
            "\n"
            "Gannet MQTT 3.1 / 3.1.1 / 5.0 broker. Runs with embedded defaults\n"
            "(0.0.0.0:1883, one shard per CPU) when no config file is given.\n"
            "\n"
            "  -c, --config FILE     read settings from FILE (see docs/CONFIGURATION.md)\n"
            "  -p, --port PORT       listen on PORT (overrides the file)\n"
            "  -t, --shards N        run N shard threads (overrides the file)\n"
            "  -o, --set KEY=VALUE   set any config key (overrides the file)\n"
            "  -v, --verbose         log_level debug\n"
            "      --print-config    print the effective configuration and exit\n"
            "  -h, --help            show this help and exit\n"
            "  -V, --version         show the version and exit\n"
            "\n"
            "Signals: SIGTERM/SIGINT stop gracefully (MQTT 5 clients get DISCONNECT\n"
            "0x8B); SIGHUP reloads the config file's reloadable keys.\n"
            "Exit status: 0 clean stop, 1 runtime failure, 2 usage or config error.\n");
}

static int add_override(options *o, const char *key, const char *value)
{
    if (o->noverrides == MAX_OVERRIDES) {
        fprintf(stderr, "gannetd: more than %d command-line settings\n", MAX_OVERRIDES);
        return -1;
    }
    o->overrides[o->noverrides++] = (override){ key, value };
    return 0;
}

/* Returns -1 to exit 0 (help/version printed), 0 to run, EXIT_USAGE on error. */
static int parse_args(int argc, char **argv, options *o)
{
    enum { OPT_PRINT_CONFIG = 1000 };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "port", required_argument, NULL, 'p' },
        { "shards", required_argument, NULL, 't' },
        { "set", required_argument, NULL, 'o' },
        { "verbose", no_argument, NULL, 'v' },
        { "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:p:t:o:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config_path = optarg; break;
        case 'p': if (add_override(o, "port", optarg)) return EXIT_USAGE; break;
        case 't': if (add_override(o, "shards", optarg)) return EXIT_USAGE; break;
        case 'v': if (add_override(o, "log_level", "debug")) return EXIT_USAGE; break;
        case 'o': {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg) {
                fprintf(stderr, "gannetd: -o expects KEY=VALUE, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            *eq = '\0';
            if (add_override(o, optarg, eq + 1))
                return EXIT_USAGE;
            break;
        }
        case OPT_PRINT_CONFIG: o->print_config = true; break;
        case 'h': usage(stdout); return -1;
        case 'V': printf("gannetd %s\n", GANNET_VERSION); return -1;
        case ':':
            if (optopt != 0 && optopt < OPT_PRINT_CONFIG)
                fprintf(stderr, "gannetd: option '-%c' needs a value (try --help)\n", optopt);
            else
                fprintf(stderr, "gannetd: option '%s' needs a value (try --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (optopt != 0 && optopt < OPT_PRINT_CONFIG)
                fprintf(stderr, "gannetd: unknown option '-%c' (try --help)\n", optopt);
            else
                fprintf(stderr, "gannetd: unknown option '%s' (try --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gannetd: unexpected argument '%s' (try --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    return 0;
}

/* defaults <- file <- command line, then validate. */
static int build_config(const options *o, gn_config *cfg, char *err, size_t errlen)
{
    gn_config_defaults(cfg);
    if (o->config_path != NULL && gn_config_load_file(cfg, o->config_path, err, errlen) != 0)
        return -1;
    for (int i = 0; i < o->noverrides; i++) {
        char sub[400];
        if (gn_config_set(cfg, o->overrides[i].key, o->overrides[i].value, sub, sizeof sub) != 0) {
            snprintf(err, errlen, "command line: %s", sub);
            return -1;
        }
    }
    return gn_config_validate(cfg, err, errlen);
}

typedef struct waiter {
    gn_engine *engine;
    pthread_t  main_thread;
} waiter;

static void *wait_engine(void *arg)
{
    waiter *w = arg;
    gn_engine_wait(w->engine);
    pthread_kill(w->main_thread, SIGUSR1);
    return NULL;
}

static void reload(const options *o, gn_engine *e, const gn_config *started)
{
    if (o->config_path == NULL) {
        gn_log_info("SIGHUP: no config file (-c), nothing to reload");
        return;
    }
    gn_config next;
    char err[512];
    if (build_config(o, &next, err, sizeof err) != 0) {
        gn_log_error("SIGHUP: reload failed, keeping the running configuration: %s", err);
        return;
    }
    /* The engine applies the reloadable keys and names, in err, the
     * restart-only ones that changed; say so even if it did not. */
    if (gn_engine_reload(e, &next, err, sizeof err) != 0) {
        gn_log_warn("SIGHUP: %s", err);
    } else {
        char diff[512];
        if (gn_config_static_diff(started, &next, diff, sizeof diff) > 0)
            gn_log_warn("SIGHUP: changed keys need a restart and are ignored: %s", diff);
    }
    gn_log_info("SIGHUP: reloaded %s (log_level %s)", o->config_path, gn_log_level_name(next.log_level));
}

int main(int argc, char **argv)
{
    options opt;
    int rc = parse_args(argc, argv, &opt);
    if (rc == -1)
        return 0;
    if (rc != 0)
        return rc;

    gn_config cfg;
    char err[512];
    if (build_config(&opt, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "gannetd: %s\n", err);
        return EXIT_USAGE;
    }
    if (opt.print_config) {
        if (gn_config_dump(&cfg, stdout) != 0) {
            fprintf(stderr, "gannetd: cannot write the configuration: %s\n", strerror(errno));
            return EXIT_RUNTIME;
        }
        return 0;
    }
    gn_log_set_level(cfg.log_level);
    gn_log_set_thread_tag("main");

    /* Block before any thread exists: every engine thread inherits it. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0) {
        fprintf(stderr, "gannetd: pthread_sigmask: %s\n", strerror(rc));
        return EXIT_RUNTIME;
    }
    signal(SIGPIPE, SIG_IGN);

    gn_log_info("gannetd %s starting (config: %s)", GANNET_VERSION,
                opt.config_path != NULL ? opt.config_path : "embedded defaults");
    if (cfg.allow_anonymous && cfg.mode == GN_MODE_PLAIN)
        gn_log_warn("allow_anonymous is true: clients are accepted without credentials");

    gn_engine *e = gn_engine_create(&cfg, err, sizeof err);
    if (e == NULL) {
        gn_log_error("cannot create the engine: %s", err);
        return EXIT_RUNTIME;
    }
    if (gn_engine_start(e, err, sizeof err) != 0) {
        gn_log_error("cannot start the engine: %s", err);
        gn_engine_destroy(e);
        return EXIT_RUNTIME;
    }

    waiter w = { e, pthread_self() };
    pthread_t wt;
    if ((rc = pthread_create(&wt, NULL, wait_engine, &w)) != 0) {
        gn_log_error("cannot start the wait thread: %s", strerror(rc));
        gn_engine_stop(e);
        gn_engine_destroy(e);
        return EXIT_RUNTIME;
    }

    int status = 0;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            gn_log_error("sigwaitinfo: %s", strerror(errno));
            gn_engine_stop(e);
            status = EXIT_RUNTIME;
            break;
        }
        if (sig == SIGHUP) {
            reload(&opt, e, &cfg);
            continue;
        }
        if (sig == SIGUSR1 && si.si_code != SI_TKILL) {
            continue; /* someone else's SIGUSR1: only our wait thread counts */
        }
        if (sig == SIGUSR1) {
            gn_log_error("the engine stopped on its own");
            status = EXIT_RUNTIME;
            break;
        }
        gn_log_info("%s received, stopping (grace %u ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                    (unsigned)cfg.shutdown_grace_ms);
        gn_engine_stop(e);
        break;
    }
    pthread_join(wt, NULL);

    gn_engine_stats st;
    gn_engine_get_stats(e, &st);
    gn_log_info("stopped: %llu connections served, %llu messages in, %llu out, %llu QoS 0 dropped, "
                "%llu protocol errors, %llu QoS>=1 dropped (offline queue full), "
                "%llu queued dropped oldest (subscription buffers full)",
                (unsigned long long)st.connections_total, (unsigned long long)st.msgs_received,
                (unsigned long long)st.msgs_sent, (unsigned long long)st.qos0_dropped,
                (unsigned long long)st.protocol_errors, (unsigned long long)st.qos1_dropped_offline,
                (unsigned long long)st.queue_dropped_oldest);
    gn_engine_destroy(e);
    return status;
}
