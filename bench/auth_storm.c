/* bench/auth_storm.c — a connection storm with authentication: keeps
 * --conns MQTT 3.1.1 CONNECTs in flight against 127.0.0.1:--port, each with
 * its own identity from a pool of --devices, waits for the CONNACK and
 * closes with RST, then starts the next. Identities cycle through the pool
 * in order, so the first --devices connects are the first check of each
 * credential (cold: the full hash) and later ones repeat (what a cache may
 * serve). Identity i is client id PREFIX{i} with, in --style platform,
 * user name use-token-auth and in --style mosquitto user name p{i}; the
 * password is --token for all. Prints one JSON object: connects/s overall,
 * for the first pass and for the rest, refusals (CONNACK rc != 0), errors.
 * Usage: auth_storm --port P --devices N --token T [--style platform|mosquitto]
 *        [--prefix d:bench1:bench:p] [--conns 32] [--seconds 5] */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct slot {
    int fd;
    bool sent;
    uint64_t ident;
} slot;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)(n >> 8);
    p[1] = (uint8_t)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

/* MQTT 3.1.1 CONNECT, clean session, keep-alive 60, user name + password. */
static size_t encode_connect(uint8_t *buf, const char *cid, const char *user, const char *pass)
{
    uint8_t body[512];
    size_t n = 0;
    n += put_str(body + n, "MQTT");
    body[n++] = 4;
    body[n++] = 0x80 | 0x40 | 0x02;
    body[n++] = 0;
    body[n++] = 60;
    n += put_str(body + n, cid);
    n += put_str(body + n, user);
    n += put_str(body + n, pass);
    size_t h = 0;
    buf[h++] = 0x10;
    size_t rl = n;
    do {
        uint8_t b = rl & 0x7f;
        rl >>= 7;
        buf[h++] = (uint8_t)(b | (rl ? 0x80 : 0));
    } while (rl);
    memcpy(buf + h, body, n);
    return h + n;
}

int main(int argc, char **argv)
{
    int port = 0, conns = 32;
    uint64_t devices = 0;
    double seconds = 5;
    const char *token = NULL, *style = "platform", *prefix = "d:bench1:bench:p";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--devices")) devices = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--style")) style = argv[i + 1];
        else if (!strcmp(argv[i], "--prefix")) prefix = argv[i + 1];
        else if (!strcmp(argv[i], "--conns")) conns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else {
            fprintf(stderr, "auth_storm: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!port || !devices || !token || conns < 1 || conns > 4096) {
        fprintf(stderr, "usage: auth_storm --port P --devices N --token T [--style platform|mosquitto]"
                        " [--prefix P] [--conns 32] [--seconds 5]\n");
        return 2;
    }
    bool platform = !strcmp(style, "platform");
    int ep = epoll_create1(0);
    slot *sl = calloc((size_t)conns, sizeof *sl);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(0x7f000001)};
    uint64_t next = 0, ok = 0, refused = 0, errors = 0, first_pass_ok = 0;
    double t_first_pass = 0;
    double t0 = now_s(), end = t0 + seconds, t = t0;
    for (int i = 0; i < conns; i++)
        sl[i].fd = -1;
    for (;;) {
        t = now_s();
        bool running = t < end;
        int open_slots = 0;
        for (int i = 0; i < conns; i++) {
            if (sl[i].fd >= 0) {
                open_slots++;
                continue;
            }
            if (!running)
                continue;
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
                close(fd);
                errors++;
                continue;
            }
            sl[i] = (slot){.fd = fd, .sent = false, .ident = next++};
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            open_slots++;
        }
        if (!open_slots && !running)
            break;
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            slot *s = &sl[evs[k].data.u32];
            if (s->fd < 0)
                continue;
            bool done = false, good = false;
            if (evs[k].events & (EPOLLERR | EPOLLHUP) && !(evs[k].events & EPOLLIN)) {
                done = true;
            } else if (!s->sent && (evs[k].events & EPOLLOUT)) {
                char cid[96], user[64];
                uint64_t idx = s->ident % devices;
                snprintf(cid, sizeof cid, "%s%llu", prefix, (unsigned long long)idx);
                snprintf(user, sizeof user, platform ? "use-token-auth" : "p%llu", (unsigned long long)idx);
                uint8_t buf[600];
                size_t len = encode_connect(buf, cid, user, token);
                if (send(s->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
                    done = true;
                s->sent = true;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[k].data.u32};
                epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
            } else if (evs[k].events & EPOLLIN) {
                uint8_t b[4];
                ssize_t r = recv(s->fd, b, sizeof b, 0);
                done = true;
                if (r == 4 && b[0] == 0x20 && b[1] == 2) {
                    if (b[3] == 0) {
                        good = true;
                    } else {
                        refused++;
                    }
                } else if (r >= 0 || errno != EAGAIN) {
                    errors++;
                } else {
                    done = false;
                }
            }
            if (!done)
                continue;
            if (good) {
                ok++;
                if (s->ident < devices && ++first_pass_ok == devices)
                    t_first_pass = now_s() - t0;
            }
            struct linger lg = {1, 0};        /* RST: no TIME_WAIT on either side */
            setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(s->fd);
            s->fd = -1;
        }
    }
    double el = t - t0;
    double rest = t_first_pass > 0 ? el - t_first_pass : 0;
    printf("{\"style\":\"%s\",\"devices\":%llu,\"conns\":%d,\"seconds\":%.2f,\"connects\":%llu,"
           "\"connects_per_s\":%.0f,\"first_pass_complete\":%s,\"first_pass_per_s\":%.0f,"
           "\"repeat_per_s\":%.0f,\"refused\":%llu,\"errors\":%llu}\n",
           style, (unsigned long long)devices, conns, el, (unsigned long long)ok, (double)ok / el,
           t_first_pass > 0 ? "true" : "false",
           t_first_pass > 0 ? (double)devices / t_first_pass : (double)first_pass_ok / el,
           rest > 0.2 ? (double)(ok - devices) / rest : 0.0, (unsigned long long)refused,
           (unsigned long long)errors);
    return 0;
}
