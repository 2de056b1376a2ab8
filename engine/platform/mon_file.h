/* engine/platform/mon_file.h — reading back a shard's connected-client
 * file (monitor.c writes it). One record a line, tab-separated; client ids
 * and user names are JSON-escaped inside the fields, so no tab or newline
 * occurs in them:
 *   +  serial  d|a  connect_ms  topic  fields   a client connected
 *   -  serial                                  it closed (forget it)
 *   D  serial  d|a  topic  json                 it closed at shutdown (93):
 *                                               republish json at start
 *   S                                          graceful stop (end of file)
 * d: a device or gateway (Disconnect retained); a: an application or
 * Quickstart client (Disconnect clears).
 *
 * Pure function over the caller's buffer; no global state; any thread. */
#ifndef GN_PLATFORM_MON_FILE_H
#define GN_PLATFORM_MON_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_MONFILE_TOPIC_MAX 256     /* longer topics are not monitoring topics */

/* A client the file still holds: its last record ('+' or 'D'). Strings
 * point into the buffer given to gn_monfile_replay. */
typedef struct gn_monrec {
    char        kind;           /* '+' or 'D' */
    bool        clears;         /* 'a' */
    uint32_t    serial;
    uint64_t    connect_ms;     /* '+' */
    const char *topic;          /* non-empty, no wildcard, ends in "/mon" */
    const char *rest;           /* '+': the fixed fields; 'D': the Disconnect JSON */
} gn_monrec;

/* graceful: the file ends with 'S' (known before the first call). */
typedef void (*gn_monrec_fn)(void *ctx, const gn_monrec *r, bool graceful);

/* Replay buf[0..len) (changed in place: separators become NUL): fn is
 * called once per client still held, in serial order. Malformed lines and
 * a last line without its newline (cut by a crash) are skipped. *graceful
 * is set when the last complete line is 'S'. Returns the number of calls,
 * or -1 out of memory. */
long gn_monfile_replay(char *buf, size_t len, bool *graceful, gn_monrec_fn fn, void *ctx);

#endif
