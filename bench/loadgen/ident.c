/* bench/loadgen/ident.c — storm identities: client-id templates and the
 * credentials file ("clientid user password" per line). */
#include "bench/loadgen/ident.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/loadgen/packets.h"

bool gl_ident_expand(const char *tpl, uint64_t attempt, uint32_t run_tag,
                     uint32_t worker, char *out, size_t cap)
{
    char n[24], t[12], w[12];
    snprintf(n, sizeof n, "%llu", (unsigned long long)attempt);
    snprintf(t, sizeof t, "%03x", run_tag);
    snprintf(w, sizeof w, "%u", worker);
    const char *values[] = { n, t, w, n };     /* %p: the attempt, as in the other modes' %p */
    return gl_pattern_expand(tpl, "ntwp", values, out, cap) && out[0] != '\0';
}

static char *dup_word(const char *w)
{
    return w ? strdup(w) : NULL;
}

gl_status gl_ident_load(const gl_opts *o, gl_idents *out)
{
    *out = (gl_idents){0};
    if (!o->credentials)
        return GL_OK;
    FILE *f = fopen(o->credentials, "r");
    if (!f) {
        fprintf(stderr, "gnload: cannot open --credentials %s: %s\n", o->credentials, strerror(errno));
        return GL_ERR_USAGE;
    }
    char line[4096];
    size_t cap = 0, lineno = 0;
    gl_status s = GL_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l == sizeof line - 1 && line[l - 1] != '\n') {
            fprintf(stderr, "gnload: %s:%zu: line too long\n", o->credentials, lineno);
            s = GL_ERR_USAGE;
            break;
        }
        char *save = NULL;
        char *id = strtok_r(line, " \t\r\n", &save);
        if (!id || id[0] == '#')
            continue;
        char *user = strtok_r(NULL, " \t\r\n", &save);
        char *pass = strtok_r(NULL, " \t\r\n", &save);
        if (strtok_r(NULL, " \t\r\n", &save)) {
            fprintf(stderr, "gnload: %s:%zu: expected 'clientid [user [password]]'\n",
                    o->credentials, lineno);
            s = GL_ERR_USAGE;
            break;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            gl_cred *grown = realloc(out->lines, cap * sizeof *grown);
            if (!grown) {
                s = GL_ERR_NOMEM;
                break;
            }
            out->lines = grown;
        }
        gl_cred *c = &out->lines[out->n++];
        *c = (gl_cred){ dup_word(id), dup_word(user), dup_word(pass) };
        if (!c->client_id || (user && !c->username) || (pass && !c->password)) {
            s = GL_ERR_NOMEM;
            break;
        }
    }
    fclose(f);
    if (s == GL_OK && out->n == 0) {
        fprintf(stderr, "gnload: --credentials %s has no lines\n", o->credentials);
        s = GL_ERR_USAGE;
    }
    if (s != GL_OK)
        gl_ident_free(out);
    return s;
}

void gl_ident_free(gl_idents *ids)
{
    for (size_t i = 0; i < ids->n; i++) {
        free(ids->lines[i].client_id);
        free(ids->lines[i].username);
        free(ids->lines[i].password);
    }
    free(ids->lines);
    *ids = (gl_idents){0};
}

gl_status gl_ident_connect(const gl_opts *o, const gl_idents *ids, uint64_t attempt,
                           uint32_t worker, uint8_t *buf, size_t cap, size_t *len)
{
    const char *tpl = o->client_id ? o->client_id : "gnload-%t-%n";
    const char *user = o->username, *pass = o->password;
    if (ids && ids->n > 0) {
        const gl_cred *c = &ids->lines[attempt % ids->n];
        tpl = c->client_id;
        user = c->username;
        pass = c->password;
    }
    char id[256];
    if (!gl_ident_expand(tpl, attempt, o->run_tag, worker, id, sizeof id))
        return GL_ERR_USAGE;
    return gl_encode_connect_as(o, id, user, pass, buf, cap, len);
}
