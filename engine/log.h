/* engine/log.h — the leveled logger every part of Gannet writes through.
 *
 * One line per call, written with a single write(2) to the log fd (stderr
 * by default): "2026-11-23T14:28:06.123Z INFO  [shard 1] text\n". The line
 * is formatted in a stack buffer (lines longer than GN_LOG_LINE_MAX are cut
 * and end in "..."), so concurrent writers never interleave inside a line
 * and no lock is taken.
 *
 * Threading: every function may be called from any thread at any time.
 * The level and fd are process-wide atomics; the thread tag is per thread. */
#ifndef GN_ENGINE_LOG_H
#define GN_ENGINE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum gn_log_level {
    GN_LOG_ERROR = 0,
    GN_LOG_WARN  = 1,
    GN_LOG_INFO  = 2,
    GN_LOG_DEBUG = 3,
} gn_log_level;

/* Longest line written, newline included. */
#define GN_LOG_LINE_MAX 1024

/* Runtime level: messages above it are discarded before formatting.
 * Default GN_LOG_INFO. Values outside the enum are clamped. */
void gn_log_set_level(gn_log_level level);
gn_log_level gn_log_get_level(void);
bool gn_log_enabled(gn_log_level level);

/* Destination file descriptor (default 2). The logger never closes it.
 * Meant for start-up and tests (capturing into a pipe). */
void gn_log_set_fd(int fd);

/* Short tag printed in brackets on every line from the calling thread,
 * e.g. "shard 3" (copied, at most 23 bytes kept). NULL or "" removes it. */
void gn_log_set_thread_tag(const char *tag);

/* "error" / "warn" / "info" / "debug" <-> level. parse returns 0, or -1 for
 * an unknown name ("warning" is accepted for warn). Case-insensitive. */
const char *gn_log_level_name(gn_log_level level);
int gn_log_level_parse(const char *name, gn_log_level *out);

/* Write one line if level is enabled. A trailing newline in fmt is not
 * needed (one is always added, and a trailing one in the text is dropped). */
void gn_log(gn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void gn_logv(gn_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Convenience forms; the arguments are not evaluated when the level is off. */
#define gn_log_error(...) do { if (gn_log_enabled(GN_LOG_ERROR)) gn_log(GN_LOG_ERROR, __VA_ARGS__); } while (0)
#define gn_log_warn(...)  do { if (gn_log_enabled(GN_LOG_WARN))  gn_log(GN_LOG_WARN,  __VA_ARGS__); } while (0)
#define gn_log_info(...)  do { if (gn_log_enabled(GN_LOG_INFO))  gn_log(GN_LOG_INFO,  __VA_ARGS__); } while (0)
#define gn_log_debug(...) do { if (gn_log_enabled(GN_LOG_DEBUG)) gn_log(GN_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
