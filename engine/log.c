/* engine/log.c — the leveled logger: format one line into a stack buffer,
 * write it with a single write(2). No locks, no allocation; the UTC
 * timestamp is computed here (gmtime_r may take glibc's timezone lock). */
#include "engine/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Relaxed: the level is a filter; a line racing with a level change may go
 * either way and nothing else is ordered by it. */
static _Atomic int log_level = GN_LOG_INFO;
/* Relaxed: the fd is set at start-up or by tests before logging threads
 * care; a racing writer uses the old or the new fd, both valid. */
static _Atomic int log_fd = 2;

static _Thread_local char thread_tag[24];

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const level_labels[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };

void gn_log_set_level(gn_log_level level)
{
    int l = (int)level;
    if (l < GN_LOG_ERROR)
        l = GN_LOG_ERROR;
    if (l > GN_LOG_DEBUG)
        l = GN_LOG_DEBUG;
    atomic_store_explicit(&log_level, l, memory_order_relaxed);
}

gn_log_level gn_log_get_level(void)
{
    return (gn_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

bool gn_log_enabled(gn_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void gn_log_set_fd(int fd)
{
    atomic_store_explicit(&log_fd, fd, memory_order_relaxed);
}

void gn_log_set_thread_tag(const char *tag)
{
    if (tag == NULL) {
        thread_tag[0] = '\0';
        return;
    }
    size_t n = strnlen(tag, sizeof thread_tag - 1);
    memcpy(thread_tag, tag, n);
    thread_tag[n] = '\0';
}

const char *gn_log_level_name(gn_log_level level)
{
    if ((int)level < GN_LOG_ERROR || (int)level > GN_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

int gn_log_level_parse(const char *name, gn_log_level *out)
{
    if (name == NULL)
        return -1;
    for (int i = GN_LOG_ERROR; i <= GN_LOG_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (gn_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = GN_LOG_WARN;
        return 0;
    }
    return -1;
}

/* Days since 1970-01-01 -> civil date (H. Hinnant's days_from_civil inverse). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 32 bytes); returns length. */
static int format_timestamp(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t secs = (int64_t)ts.tv_sec;
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    return snprintf(buf, len, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mo, d,
                    (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
                    (unsigned)(ts.tv_nsec / 1000000));
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a logging failure */
        }
        p += w;
        n -= (size_t)w;
    }
}

void gn_logv(gn_log_level level, const char *fmt, va_list ap)
{
    if (!gn_log_enabled(level) || (int)level < GN_LOG_ERROR)
        return;
    char line[GN_LOG_LINE_MAX];
    const size_t cap = sizeof line - 1; /* room for the newline */
    int n = format_timestamp(line, cap);
    size_t len = n > 0 ? (size_t)n : 0;
    if (thread_tag[0] != '\0')
        n = snprintf(line + len, cap - len, " %s [%s] ", level_labels[level], thread_tag);
    else
        n = snprintf(line + len, cap - len, " %s ", level_labels[level]);
    if (n > 0)
        len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;

    n = vsnprintf(line + len, cap - len, fmt, ap);
    if (n < 0) {
        n = 0;
    } else if ((size_t)n >= cap - len) {
        /* cut: vsnprintf left cap - len - 1 bytes; end them in "..." */
        len = cap - 1;
        memcpy(line + len - 3, "...", 3);
        n = 0;
    }
    len += (size_t)n;
    while (len > 0 && line[len - 1] == '\n')
        len--;
    line[len++] = '\n';
    write_all(atomic_load_explicit(&log_fd, memory_order_relaxed), line, len);
}

void gn_log(gn_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gn_logv(level, fmt, ap);
    va_end(ap);
}
