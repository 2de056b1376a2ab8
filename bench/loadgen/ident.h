/* bench/loadgen/ident.h — who a storm attempt connects as: the client id
 * (a template, or a line of the credentials file) and the optional
 * username / password, encoded into one CONNECT.
 *
 * Loaded once by the main thread before the workers start (gl_ident_load);
 * read-only afterwards, so every worker may encode from it concurrently.
 * gl_ident_free releases the file's lines (main thread, after join). */
#ifndef GL_IDENT_H
#define GL_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "bench/loadgen/opts.h"
#include "bench/loadgen/status.h"

/* One line of the credentials file: "clientid user password" (user and
 * password optional; '#' starts a comment line). */
typedef struct gl_cred {
    char *client_id;
    char *username;   /* NULL: none */
    char *password;   /* NULL: none */
} gl_cred;

typedef struct gl_idents {
    gl_cred *lines;
    size_t   n;
} gl_idents;

/* Read o->credentials (if set) into *out. Prints the problem to stderr and
 * returns GL_ERR_USAGE for a missing, empty or malformed file. */
gl_status gl_ident_load(const gl_opts *o, gl_idents *out);
void gl_ident_free(gl_idents *ids);

/* Expand a client-id template: %n (or %p) = attempt number, %t = run tag (3 hex
 * digits), %w = worker index, %% = '%'. False if it does not fit in cap or
 * expands to nothing. */
bool gl_ident_expand(const char *tpl, uint64_t attempt, uint32_t run_tag,
                     uint32_t worker, char *out, size_t cap);

/* Encode the CONNECT of attempt number `attempt` (run-wide) made by worker
 * `worker` into buf: line attempt % n of the credentials file when there is
 * one (its client id is a template too), else o->client_id with
 * o->username / o->password. */
gl_status gl_ident_connect(const gl_opts *o, const gl_idents *ids, uint64_t attempt,
                           uint32_t worker, uint8_t *buf, size_t cap, size_t *len);

#endif
