/* tools/gannetctl/json.c — JSON output for gannetctl (see json.h). */
#include "tools/gannetctl/json.h"

void gn_json_init(gn_json *j, FILE *out)
{
    j->out = out;
    j->depth = 0;
    j->first[0] = true;
}

static void put_string(FILE *o, const char *s)
{
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", o); break;
        case '\\': fputs("\\\\", o); break;
        case '\n': fputs("\\n", o); break;
        case '\r': fputs("\\r", o); break;
        case '\t': fputs("\\t", o); break;
        default:
            if (*p < 0x20)
                fprintf(o, "\\u%04x", *p);
            else
                fputc(*p, o);
        }
    }
    fputc('"', o);
}

static void sep(gn_json *j, const char *key)
{
    if (!j->first[j->depth])
        fputc(',', j->out);
    j->first[j->depth] = false;
    if (key) {
        put_string(j->out, key);
        fputc(':', j->out);
    }
}

static void open(gn_json *j, const char *key, char ch)
{
    sep(j, key);
    fputc(ch, j->out);
    if (j->depth < 15)
        j->depth++;
    j->first[j->depth] = true;
}

void gn_json_begin_obj(gn_json *j, const char *key) { open(j, key, '{'); }
void gn_json_begin_arr(gn_json *j, const char *key) { open(j, key, '['); }

void gn_json_end_obj(gn_json *j)
{
    fputc('}', j->out);
    if (j->depth)
        j->depth--;
}

void gn_json_end_arr(gn_json *j)
{
    fputc(']', j->out);
    if (j->depth)
        j->depth--;
}

void gn_json_str(gn_json *j, const char *key, const char *v)
{
    sep(j, key);
    put_string(j->out, v ? v : "");
}

void gn_json_int(gn_json *j, const char *key, int64_t v)
{
    sep(j, key);
    fprintf(j->out, "%lld", (long long)v);
}

void gn_json_bool(gn_json *j, const char *key, bool v)
{
    sep(j, key);
    fputs(v ? "true" : "false", j->out);
}

void gn_json_raw(gn_json *j, const char *key, const char *v)
{
    sep(j, key);
    fputs(v, j->out);
}

void gn_json_done(gn_json *j) { fputc('\n', j->out); }
