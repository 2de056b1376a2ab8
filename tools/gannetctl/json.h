/* tools/gannetctl/json.h — the little JSON writer behind `gannetctl
 * --json`: objects and arrays on stdout with string escaping, one
 * document per command. Single-threaded. */
#ifndef GN_TOOLS_JSON_H
#define GN_TOOLS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct gn_json {
    FILE *out;
    int depth;
    bool first[16];                     /* no comma needed yet at this depth */
} gn_json;

void gn_json_init(gn_json *j, FILE *out);
void gn_json_begin_obj(gn_json *j, const char *key);   /* key NULL inside arrays / at top */
void gn_json_end_obj(gn_json *j);
void gn_json_begin_arr(gn_json *j, const char *key);
void gn_json_end_arr(gn_json *j);
void gn_json_str(gn_json *j, const char *key, const char *v);
void gn_json_int(gn_json *j, const char *key, int64_t v);
void gn_json_bool(gn_json *j, const char *key, bool v);
/* A raw JSON literal already formatted (numbers from settings). */
void gn_json_raw(gn_json *j, const char *key, const char *v);
void gn_json_done(gn_json *j);         /* newline after the top-level value */

#endif
