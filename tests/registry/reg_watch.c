/* tests/registry/reg_watch.c — a running registry as gannetd has one, for
 * test_gannetctl.py: opens the database, starts the registry thread and
 * prints a line whenever the watched device's state in the snapshot
 * changes ("gen=G present=0|1 usable=0|1 revoked=N"), and "ready" once at
 * start. Exits when stdin is closed or after 60 s.
 * Usage: reg_watch DB ORG TYPE ID */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/platform/registry.h"

static int revoked;
static void on_revoked(void *ctx, const gn_reg_revoked *r)
{
    (void)ctx;
    (void)r;
    revoked++;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: reg_watch DB ORG TYPE ID\n");
        return 2;
    }
    gn_registry_opts o;
    gn_registry_opts_default(&o);
    o.path = argv[1];
    o.poll_interval_ms = 50;
    char err[256];
    gn_registry *r = gn_registry_open(&o, err, sizeof err);
    if (!r) {
        fprintf(stderr, "reg_watch: %s\n", err);
        return 1;
    }
    gn_qsbr_reader *me = gn_qsbr_register(gn_registry_qsbr(r));
    if (gn_registry_start(r, err, sizeof err) != GN_REG_OK) {
        fprintf(stderr, "reg_watch: %s\n", err);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    const char *org = argv[2], *type = argv[3], *id = argv[4];
    int last_p = -1, last_u = -1;
    uint64_t seen_gen = gn_reg_generation(gn_registry_snapshot(r));
    for (int i = 0; i < 6000; i++) {
        const gn_reg_snapshot *s = gn_registry_snapshot(r);
        const gn_reg_device *d = gn_reg_find_device(s, org, strlen(org), type, strlen(type), id, strlen(id));
        int p = d != NULL, u = d && gn_reg_device_usable(s, d) == GN_REG_OK;
        if (gn_reg_generation(s) != seen_gen) {
            gn_reg_revoked_since(s, seen_gen, on_revoked, NULL);
            seen_gen = gn_reg_generation(s);
        }
        if (p != last_p || u != last_u) {
            printf("gen=%llu present=%d usable=%d revoked=%d\n", (unsigned long long)gn_reg_generation(s),
                   p, u, revoked);
            fflush(stdout);
            last_p = p;
            last_u = u;
        }
        gn_qsbr_quiescent(me);
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        if (poll(&pfd, 1, 10) > 0) {
            char buf[64];
            if (read(0, buf, sizeof buf) <= 0)
                break;
        }
    }
    gn_qsbr_unregister(me);
    gn_registry_close(r);
    return 0;
}
