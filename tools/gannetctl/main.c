/* tools/gannetctl/main.c — gannetctl: manage the platform registry (orgs
 * and their CA certificates, device types, devices, gateways, API keys,
 * resource groups) in the
 * SQLite database gannetd reads. A running gannetd sees every change
 * within its registry_poll_interval_ms without a restart.
 *
 *   gannetctl [--db PATH] [--json] NOUN VERB ARGS... [OPTIONS]
 *
 * docs/REGISTRY.md is the manual (every command, output and exit code).
 * Exit codes: one table, exit_code_of() below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/platform/registry_store.h"
#include "tools/gannetctl/devcsv.h"
#include "tools/gannetctl/json.h"

enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,       /* out of memory, unexpected failure */
    EXIT_USAGE = 2,          /* bad command line */
    EXIT_NOT_FOUND = 3,      /* no such org / type / device / key / group */
    EXIT_EXISTS = 4,         /* already exists */
    EXIT_INVALID = 5,        /* a value breaks the syntax (org id, id, token, setting) */
    EXIT_LIMIT = 6,          /* a per-org / per-group limit */
    EXIT_STATE = 7,          /* not allowed as things are (default group, type with devices, quickstart) */
    EXIT_DB = 8,             /* database missing, locked or failing */
    EXIT_SCHEMA = 9,         /* database of an unknown schema version */
};

static int exit_code_of(gn_reg_err e)
{
    switch (e) {
    case GN_REG_OK: return EXIT_OK;
    case GN_REG_ERR_NOT_FOUND: return EXIT_NOT_FOUND;
    case GN_REG_ERR_EXISTS: return EXIT_EXISTS;
    case GN_REG_ERR_INVALID: return EXIT_INVALID;
    case GN_REG_ERR_LIMIT: return EXIT_LIMIT;
    case GN_REG_ERR_STATE: return EXIT_STATE;
    case GN_REG_ERR_STORE:
    case GN_REG_ERR_BUSY: return EXIT_DB;
    case GN_REG_ERR_SCHEMA: return EXIT_SCHEMA;
    default: return EXIT_INTERNAL;
    }
}

/* ------------------------------------------------------------ arguments */

#define MAX_POS 8

typedef struct args {
    const char *db;
    bool json, help;
    uint32_t iterations;
    const char *pos[MAX_POS];
    int npos;
    /* command options */
    const char *token, *name, *id, *plan, *description, *perms, *type;
    bool gateway, no_token, no_group, standard, force, create_types, skip_existing;
    char seen[256];                     /* option names given, for per-command checks */
} args;

typedef struct ctx {
    args *a;
    gn_store *st;
    gn_json j;
} ctx;

typedef int (*cmd_fn)(ctx *c);

typedef struct command {
    const char *noun, *verb;
    int nargs;                          /* positional arguments after NOUN VERB */
    const char *args_usage;
    const char *options;                /* allowed command options, space separated */
    const char *help;
    cmd_fn fn;
} command;

static void err_out(const char *fmt, const char *a, const char *b)
{
    fputs("gannetctl: ", stderr);
    fprintf(stderr, fmt, a ? a : "", b ? b : "");
    fputc('\n', stderr);
}

static int fail_store(ctx *c, gn_reg_err e)
{
    const char *m = gn_store_errmsg(c->st);
    fprintf(stderr, "gannetctl: %s\n", m && *m ? m : gn_reg_strerror(e));
    return exit_code_of(e);
}

/* Text output or the JSON document, depending on --json. */
#define TEXT(c) (!(c)->a->json)

static const char *status_name(uint8_t s) { return s == GN_REG_ENABLED ? "enabled" : "disabled"; }

/* ----------------------------------------------------------------- orgs */

static int org_create(ctx *c)
{
    gn_reg_plan plan = GN_REG_PLAN_STANDARD;
    if (c->a->plan) {
        if (!strcmp(c->a->plan, "lite"))
            plan = GN_REG_PLAN_LITE;
        else if (strcmp(c->a->plan, "standard")) {
            err_out("--plan must be standard or lite, not '%s'", c->a->plan, NULL);
            return EXIT_INVALID;
        }
    }
    char id[GN_REG_ORG_MAX + 1];
    gn_reg_err e = gn_store_org_create(c->st, c->a->id, c->a->name, plan, id);
    if (e)
        return fail_store(c, e);
    if (TEXT(c)) {
        printf("org %s created\n", id);
    } else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", id);
        gn_json_end_obj(&c->j);
    }
    return EXIT_OK;
}

static void org_row(void *p, const gn_reg_org *o)
{
    ctx *c = p;
    if (TEXT(c)) {
        printf("%-10s  %-8s  %-8s  %s\n", o->id, status_name(o->status),
               o->s.plan == GN_REG_PLAN_LITE ? "lite" : "standard", o->name);
        return;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "org", o->id);
    gn_json_str(&c->j, "name", o->name);
    gn_json_str(&c->j, "status", status_name(o->status));
    gn_json_str(&c->j, "plan", o->s.plan == GN_REG_PLAN_LITE ? "lite" : "standard");
    gn_json_end_obj(&c->j);
}

static int org_list(ctx *c)
{
    if (TEXT(c))
        printf("%-10s  %-8s  %-8s  %s\n", "ORG", "STATUS", "PLAN", "NAME");
    else
        gn_json_begin_arr(&c->j, NULL);
    gn_reg_err e = gn_store_org_list(c->st, org_row, c);
    if (!TEXT(c))
        gn_json_end_arr(&c->j);
    return e ? fail_store(c, e) : EXIT_OK;
}

static void setting_row(void *p, const char *name, const char *value)
{
    ctx *c = p;
    if (TEXT(c)) {
        printf("  %-24s %s\n", name, value);
        return;
    }
    bool num = value[0] >= '0' && value[0] <= '9';
    bool lit = !strcmp(value, "true") || !strcmp(value, "false");
    if (num || lit)
        gn_json_raw(&c->j, name, value);
    else
        gn_json_str(&c->j, name, value);
}

static int org_show(ctx *c)
{
    gn_reg_org o;
    gn_reg_err e = gn_store_org_get(c->st, c->a->pos[2], &o);
    if (e)
        return fail_store(c, e);
    if (TEXT(c)) {
        printf("org:      %s\nname:     %s\nstatus:   %s\nplan:     %s\nsettings:\n", o.id, o.name,
               status_name(o.status), o.s.plan == GN_REG_PLAN_LITE ? "lite" : "standard");
        gn_reg_settings_each(&o.s, setting_row, c);
        return EXIT_OK;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "org", o.id);
    gn_json_str(&c->j, "name", o.name);
    gn_json_str(&c->j, "status", status_name(o.status));
    gn_json_str(&c->j, "plan", o.s.plan == GN_REG_PLAN_LITE ? "lite" : "standard");
    gn_json_bool(&c->j, "quickstart", o.quickstart);
    gn_json_begin_obj(&c->j, "settings");
    gn_reg_settings_each(&o.s, setting_row, c);
    gn_json_end_obj(&c->j);
    gn_json_end_obj(&c->j);
    return EXIT_OK;
}

/* Print "<what> <name> <done>" or {"<key>": name, "status"/"result": done}. */
static int done(ctx *c, const char *what, const char *name, const char *verb)
{
    if (TEXT(c)) {
        printf("%s %s %s\n", what, name, verb);
    } else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, what, name);
        gn_json_str(&c->j, "result", verb);
        gn_json_end_obj(&c->j);
    }
    return EXIT_OK;
}

static int org_status(ctx *c, gn_reg_status s)
{
    gn_reg_err e = gn_store_org_set_status(c->st, c->a->pos[2], s);
    return e ? fail_store(c, e) : done(c, "org", c->a->pos[2], s ? "enabled" : "disabled");
}
static int org_disable(ctx *c) { return org_status(c, GN_REG_DISABLED); }
static int org_enable(ctx *c) { return org_status(c, GN_REG_ENABLED); }

static int org_remove(ctx *c)
{
    gn_reg_err e = gn_store_org_remove(c->st, c->a->pos[2]);
    return e ? fail_store(c, e) : done(c, "org", c->a->pos[2], "removed");
}

static int org_set(ctx *c)
{
    gn_reg_err e = gn_store_org_set(c->st, c->a->pos[2], c->a->pos[3], c->a->pos[4]);
    if (e)
        return fail_store(c, e);
    if (TEXT(c))
        printf("org %s: %s = %s\n", c->a->pos[2], c->a->pos[3], c->a->pos[4]);
    else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", c->a->pos[2]);
        gn_json_str(&c->j, "setting", c->a->pos[3]);
        gn_json_str(&c->j, "value", c->a->pos[4]);
        gn_json_end_obj(&c->j);
    }
    return EXIT_OK;
}

/* ------------------------------------------------- IP lists (S-038) */

/* Print the org's IP list: text "org ORG: MODE PREFIX..." or
 * {"org", "mode": "black"|"white"|"none", "prefixes": [...], "countries": [...]}. */
static int iplist_print(ctx *c, const char *org, const gn_reg_ipacl *acl)
{
    char text[GN_REG_IPACL_TEXT_MAX];
    gn_reg_ipacl_format(acl, text, sizeof text);
    const char *mode = acl->mode == GN_REG_IPACL_BLACK ? "black"
                     : acl->mode == GN_REG_IPACL_WHITE ? "white" : "none";
    const char *list = strchr(text, ':');
    if (TEXT(c)) {
        if (list)
            printf("org %s: %slist %s\n", org, mode, list + 1);
        else
            printf("org %s: no IP list\n", org);
        return EXIT_OK;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "org", org);
    gn_json_str(&c->j, "mode", mode);
    gn_json_begin_arr(&c->j, "prefixes");
    /* the canonical text lists the prefixes first, then the countries */
    char *p = list ? (char *)list + 1 : NULL;
    for (uint8_t i = 0; p && *p && i < acl->n; i++) {
        char *e = strchr(p, ',');
        if (e)
            *e = 0;
        gn_json_str(&c->j, NULL, p);
        p = e ? e + 1 : NULL;
    }
    gn_json_end_arr(&c->j);
    gn_json_begin_arr(&c->j, "countries");
    for (uint8_t i = 0; i < acl->ncc; i++) {
        char cc[3] = { acl->cc[i][0], acl->cc[i][1], 0 };
        gn_json_str(&c->j, NULL, cc);
    }
    gn_json_end_arr(&c->j);
    gn_json_end_obj(&c->j);
    return EXIT_OK;
}

static int iplist_show(ctx *c)
{
    gn_reg_org o;
    gn_reg_err e = gn_store_org_get(c->st, c->a->pos[2], &o);
    return e ? fail_store(c, e) : iplist_print(c, o.id, &o.s.ip_acl);
}

/* Set the org's list to mode ("black" / "white") with the prefixes in
 * pos[3]; a list of the other kind must be cleared first (S-038: one or
 * the other, never both). */
static int iplist_set(ctx *c, const char *mode)
{
    const char *org = c->a->pos[2];
    gn_reg_org o;
    gn_reg_err e = gn_store_org_get(c->st, org, &o);
    if (e)
        return fail_store(c, e);
    bool black = !strcmp(mode, "black");
    if (o.s.ip_acl.mode == (black ? GN_REG_IPACL_WHITE : GN_REG_IPACL_BLACK)) {
        fprintf(stderr, "gannetctl: org %s has a %slist; an org uses a blacklist or a whitelist, not both "
                        "(clear it first with 'gannetctl org ipclear %s')\n", org, black ? "white" : "black", org);
        return EXIT_STATE;
    }
    char value[GN_REG_IPACL_TEXT_MAX + 64];
    int n = snprintf(value, sizeof value, "%s:%s", mode, c->a->pos[3]);
    if (n < 0 || (size_t)n >= sizeof value) {
        fprintf(stderr, "gannetctl: the list is too long (at most %d prefixes and %d countries)\n",
                GN_REG_IPACL_MAX, GN_REG_IPACL_CC_MAX);
        return EXIT_INVALID;
    }
    if ((e = gn_store_org_set(c->st, org, "ip_acl", value)) != GN_REG_OK ||
        (e = gn_store_org_get(c->st, org, &o)) != GN_REG_OK)
        return fail_store(c, e);
    return iplist_print(c, o.id, &o.s.ip_acl);
}
static int iplist_black(ctx *c) { return iplist_set(c, "black"); }
static int iplist_white(ctx *c) { return iplist_set(c, "white"); }

static int iplist_clear(ctx *c)
{
    gn_reg_err e = gn_store_org_set(c->st, c->a->pos[2], "ip_acl", "none");
    return e ? fail_store(c, e) : done(c, "org", c->a->pos[2], "IP list cleared");
}

/* ---------------------------------------------------------------- types */

static int type_add(ctx *c)
{
    gn_reg_err e = gn_store_type_add(c->st, c->a->pos[2], c->a->pos[3],
                                     c->a->gateway ? GN_REG_GATEWAY : GN_REG_DEVICE, c->a->description);
    return e ? fail_store(c, e) : done(c, "type", c->a->pos[3], "added");
}

/* "org" when the type follows its org's TLS policy (S-035). */
static const char *type_tls_policy(const gn_reg_type *t)
{
    return gn_reg_tls_policy_name(t->has_tls_policy ? t->tls_policy : GN_REG_TLS_INHERIT);
}

static void type_json(ctx *c, const gn_reg_type *t, uint64_t n)
{
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "org", t->org);
    gn_json_str(&c->j, "type", t->id);
    gn_json_str(&c->j, "class", t->cls == GN_REG_GATEWAY ? "gateway" : "device");
    gn_json_str(&c->j, "status", status_name(t->status));
    gn_json_int(&c->j, "devices", (int64_t)n);
    gn_json_str(&c->j, "tls_policy", type_tls_policy(t));
    gn_json_end_obj(&c->j);
}

static void type_row(void *p, const gn_reg_type *t, uint64_t n)
{
    ctx *c = p;
    if (TEXT(c))
        printf("%-36s  %-7s  %-8s  %llu\n", t->id, t->cls == GN_REG_GATEWAY ? "gateway" : "device",
               status_name(t->status), (unsigned long long)n);
    else
        type_json(c, t, n);
}

static int type_list(ctx *c)
{
    if (TEXT(c))
        printf("%-36s  %-7s  %-8s  %s\n", "TYPE", "CLASS", "STATUS", "DEVICES");
    else
        gn_json_begin_arr(&c->j, NULL);
    gn_reg_err e = gn_store_type_list(c->st, c->a->pos[2], type_row, c);
    if (!TEXT(c))
        gn_json_end_arr(&c->j);
    return e ? fail_store(c, e) : EXIT_OK;
}

static int type_show(ctx *c)
{
    gn_reg_type t;
    uint64_t n = 0;
    gn_reg_err e = gn_store_type_get(c->st, c->a->pos[2], c->a->pos[3], &t, &n);
    if (e)
        return fail_store(c, e);
    if (TEXT(c)) {
        printf("org:     %s\ntype:    %s\nclass:   %s\nstatus:  %s\ndevices: %llu\ntls_policy: %s\n"
               "rate settings (0 = the org's):\n",
               t.org, t.id, t.cls == GN_REG_GATEWAY ? "gateway" : "device", status_name(t.status),
               (unsigned long long)n, type_tls_policy(&t));
        gn_reg_type_settings_each(&t.s, setting_row, c);
        return EXIT_OK;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "org", t.org);
    gn_json_str(&c->j, "type", t.id);
    gn_json_str(&c->j, "class", t.cls == GN_REG_GATEWAY ? "gateway" : "device");
    gn_json_str(&c->j, "status", status_name(t.status));
    gn_json_int(&c->j, "devices", (int64_t)n);
    gn_json_str(&c->j, "tls_policy", type_tls_policy(&t));
    gn_json_begin_obj(&c->j, "settings");
    gn_reg_type_settings_each(&t.s, setting_row, c);
    gn_json_end_obj(&c->j);
    gn_json_end_obj(&c->j);
    return EXIT_OK;
}

static int type_status(ctx *c, gn_reg_status s)
{
    gn_reg_err e = gn_store_type_set_status(c->st, c->a->pos[2], c->a->pos[3], s);
    return e ? fail_store(c, e) : done(c, "type", c->a->pos[3], s ? "enabled" : "disabled");
}
static int type_disable(ctx *c) { return type_status(c, GN_REG_DISABLED); }
static int type_enable(ctx *c) { return type_status(c, GN_REG_ENABLED); }

static int type_set(ctx *c)
{
    const char *org = c->a->pos[2], *type = c->a->pos[3], *name = c->a->pos[4], *value = c->a->pos[5];
    if (strcmp(name, "tls_policy") != 0) {       /* the rate overrides */
        gn_reg_err e = gn_store_type_set(c->st, org, type, name, value);
        return e ? fail_store(c, e) : done(c, "type", type, "updated");
    }
    gn_reg_err e = gn_store_type_set_tls_policy(c->st, org, type, value);
    if (e)
        return fail_store(c, e);
    const char *shown = gn_reg_tls_policy_name(gn_reg_tls_policy_parse(value));
    if (TEXT(c)) {
        printf("type %s of org %s: %s = %s\n", type, org, name, shown);
    } else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", org);
        gn_json_str(&c->j, "type", type);
        gn_json_str(&c->j, "setting", name);
        gn_json_str(&c->j, "value", shown);
        gn_json_end_obj(&c->j);
    }
    return EXIT_OK;
}

static int type_remove(ctx *c)
{
    gn_reg_err e = gn_store_type_remove(c->st, c->a->pos[2], c->a->pos[3], c->a->force);
    return e ? fail_store(c, e) : done(c, "type", c->a->pos[3], "removed");
}

/* ------------------------------------------------- devices and gateways */

static bool is_gateway_cmd(ctx *c) { return !strcmp(c->a->pos[0], "gateway"); }

static void print_token_once(ctx *c, const char *token)
{
    if (TEXT(c) && token[0])
        printf("token: %s\n(shown once: it is stored only as a salted hash)\n", token);
    else if (!TEXT(c) && token[0])
        gn_json_str(&c->j, "token", token);
}

static int device_add(ctx *c)
{
    gn_store_device_spec sp = {
        .org = c->a->pos[2], .type = c->a->pos[3], .id = c->a->pos[4],
        .cls = is_gateway_cmd(c) ? GN_REG_GATEWAY : GN_REG_DEVICE,
        .token = c->a->token, .no_token = c->a->no_token,
        .role = c->a->standard ? GN_REG_GW_STANDARD : GN_REG_GW_PRIVILEGED,
        .no_group = c->a->no_group,
    };
    if (sp.no_token && sp.token) {
        err_out("--token and --no-token exclude each other", NULL, NULL);
        return EXIT_USAGE;
    }
    char tok[GN_REG_TOKEN_MAX + 1] = "";
    gn_reg_err e = gn_store_device_add(c->st, &sp, tok, NULL);
    if (e)
        return fail_store(c, e);
    const char *what = sp.cls == GN_REG_GATEWAY ? "gateway" : "device";
    if (TEXT(c)) {
        printf("%s %s:%s added to org %s\n", what, sp.type, sp.id, sp.org);
        if (sp.cls == GN_REG_GATEWAY && !sp.no_group)
            printf("default resource group: gw:%s:%s\n", sp.type, sp.id);
    } else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", sp.org);
        gn_json_str(&c->j, "type", sp.type);
        gn_json_str(&c->j, "id", sp.id);
        gn_json_str(&c->j, "class", what);
    }
    print_token_once(c, tok);
    if (!TEXT(c))
        gn_json_end_obj(&c->j);
    return EXIT_OK;
}

static void device_json(ctx *c, const gn_reg_device *d, bool full)
{
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "org", d->org);
    gn_json_str(&c->j, "type", d->type);
    gn_json_str(&c->j, "id", d->id);
    gn_json_str(&c->j, "class", d->cls == GN_REG_GATEWAY ? "gateway" : "device");
    gn_json_str(&c->j, "status", status_name(d->status));
    gn_json_bool(&c->j, "has_token", d->has_token);
    if (d->cls == GN_REG_GATEWAY)
        gn_json_str(&c->j, "role", d->gw_role == GN_REG_GW_STANDARD ? "standard" : "privileged");
    gn_json_bool(&c->j, "auto_registered", d->registered_by != 0);
    if (full) {
        gn_json_int(&c->j, "groups", d->ngroups);
        if (d->cls == GN_REG_GATEWAY)
            gn_json_int(&c->j, "gateway_groups", d->gw_ngroups);
    }
    gn_json_end_obj(&c->j);
}

static void device_row(void *p, const gn_reg_device *d)
{
    ctx *c = p;
    if (!TEXT(c)) {
        device_json(c, d, false);
        return;
    }
    printf("%-24s  %-24s  %-8s  %-5s  %s\n", d->type, d->id, status_name(d->status),
           d->has_token ? "yes" : "no",
           d->cls == GN_REG_GATEWAY ? (d->gw_role == GN_REG_GW_STANDARD ? "standard" : "privileged")
                                    : (d->registered_by ? "auto" : "-"));
}

static int device_list(ctx *c)
{
    if (TEXT(c))
        printf("%-24s  %-24s  %-8s  %-5s  %s\n", "TYPE", "ID", "STATUS", "TOKEN",
               is_gateway_cmd(c) ? "ROLE" : "REGISTERED");
    else
        gn_json_begin_arr(&c->j, NULL);
    gn_reg_err e = gn_store_device_list(c->st, c->a->pos[2], c->a->type,
                                        is_gateway_cmd(c) ? GN_REG_GATEWAY : GN_REG_DEVICE, device_row, c);
    if (!TEXT(c))
        gn_json_end_arr(&c->j);
    return e ? fail_store(c, e) : EXIT_OK;
}

static int device_get(ctx *c, gn_reg_device *d)
{
    gn_reg_err e = gn_store_device_get(c->st, c->a->pos[2], c->a->pos[3], c->a->pos[4], d);
    if (e)
        return fail_store(c, e);
    bool want_gw = is_gateway_cmd(c);
    if ((d->cls == GN_REG_GATEWAY) != want_gw) {
        fprintf(stderr, "gannetctl: %s:%s is a %s; use 'gannetctl %s ...'\n", d->type, d->id,
                want_gw ? "device" : "gateway", want_gw ? "device" : "gateway");
        return EXIT_NOT_FOUND;
    }
    return EXIT_OK;
}

static int device_show(ctx *c)
{
    gn_reg_device d;
    int rc = device_get(c, &d);
    if (rc)
        return rc;
    if (!TEXT(c)) {
        device_json(c, &d, true);
        return EXIT_OK;
    }
    printf("org:      %s\ntype:     %s\nid:       %s\nclass:    %s\nstatus:   %s\ntoken:    %s\n", d.org,
           d.type, d.id, d.cls == GN_REG_GATEWAY ? "gateway" : "device", status_name(d.status),
           d.has_token ? "set (hash only)" : "none");
    if (d.cls == GN_REG_GATEWAY)
        printf("role:     %s\ngroups attached: %u\n", d.gw_role == GN_REG_GW_STANDARD ? "standard" : "privileged",
               d.gw_ngroups);
    printf("member of groups: %u\nauto-registered: %s\n", d.ngroups, d.registered_by ? "yes" : "no");
    return EXIT_OK;
}

static int device_status(ctx *c, gn_reg_status s)
{
    gn_reg_device d;
    int rc = device_get(c, &d);
    if (rc)
        return rc;
    gn_reg_err e = gn_store_device_set_status(c->st, d.org, d.type, d.id, s);
    return e ? fail_store(c, e) : done(c, is_gateway_cmd(c) ? "gateway" : "device", d.id,
                                        s ? "enabled" : "disabled");
}
static int device_disable(ctx *c) { return device_status(c, GN_REG_DISABLED); }
static int device_enable(ctx *c) { return device_status(c, GN_REG_ENABLED); }

static int device_remove(ctx *c)
{
    gn_reg_device d;
    int rc = device_get(c, &d);
    if (rc)
        return rc;
    gn_reg_err e = gn_store_device_remove(c->st, d.org, d.type, d.id);
    return e ? fail_store(c, e) : done(c, is_gateway_cmd(c) ? "gateway" : "device", d.id, "removed");
}

static int device_rotate(ctx *c)
{
    gn_reg_device d;
    int rc = device_get(c, &d);
    if (rc)
        return rc;
    char tok[GN_REG_TOKEN_MAX + 1] = "";
    gn_reg_err e = gn_store_device_rotate(c->st, d.org, d.type, d.id, c->a->token, tok);
    if (e)
        return fail_store(c, e);
    if (TEXT(c))
        printf("%s %s:%s: new token set\n", is_gateway_cmd(c) ? "gateway" : "device", d.type, d.id);
    else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", d.org);
        gn_json_str(&c->j, "type", d.type);
        gn_json_str(&c->j, "id", d.id);
    }
    print_token_once(c, tok);
    if (!TEXT(c))
        gn_json_end_obj(&c->j);
    return EXIT_OK;
}

static int gateway_role(ctx *c)
{
    const char *r = c->a->pos[5];
    gn_reg_gw_role role;
    if (!strcmp(r, "privileged"))
        role = GN_REG_GW_PRIVILEGED;
    else if (!strcmp(r, "standard"))
        role = GN_REG_GW_STANDARD;
    else {
        err_out("role must be privileged or standard, not '%s'", r, NULL);
        return EXIT_INVALID;
    }
    gn_reg_err e = gn_store_gateway_set_role(c->st, c->a->pos[2], c->a->pos[3], c->a->pos[4], role);
    return e ? fail_store(c, e) : done(c, "gateway", c->a->pos[4], r);
}

/* Read a whole file (or stdin for "-"). NULL with errno on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

/* ------------------------------------------------ org CAs (S-036) */

static void ca_row(void *p, const gn_store_ca *ca)
{
    ctx *c = p;
    char when[32] = "?";
    time_t t = (time_t)ca->not_after;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (TEXT(c)) {
        printf("%s  %s  %s\n", ca->fingerprint, when, ca->subject);
        return;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "fingerprint", ca->fingerprint);
    gn_json_str(&c->j, "subject", ca->subject);
    gn_json_str(&c->j, "not_after", when);
    gn_json_end_obj(&c->j);
}

static void ca_added(void *p, const gn_store_ca *ca)
{
    ctx *c = p;
    if (TEXT(c))
        printf("CA %s (%s) added to org %s\n", ca->fingerprint, ca->subject, c->a->pos[2]);
    else
        ca_row(c, ca);
}

static int org_ca_add(ctx *c)
{
    const char *file = c->a->pos[3];
    size_t len = 0;
    char *pem = slurp(file, &len);
    if (!pem) {
        fprintf(stderr, "gannetctl: %s: %s\n", file, strerror(errno));
        return EXIT_USAGE;
    }
    if (!TEXT(c)) {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", c->a->pos[2]);
        gn_json_begin_arr(&c->j, "added");
    }
    gn_reg_err e = gn_store_org_ca_add(c->st, c->a->pos[2], pem, len, ca_added, c);
    free(pem);
    if (e) {
        const char *m = gn_store_errmsg(c->st);
        fprintf(stderr, "gannetctl: %s: %s\n", file, m && *m ? m : gn_reg_strerror(e));
        return exit_code_of(e);
    }
    if (!TEXT(c)) {
        gn_json_end_arr(&c->j);
        gn_json_end_obj(&c->j);
    }
    return EXIT_OK;
}

static int org_ca_list(ctx *c)
{
    if (TEXT(c))
        printf("%-64s  %-20s  %s\n", "FINGERPRINT (SHA-256)", "NOT_AFTER", "SUBJECT");
    else
        gn_json_begin_arr(&c->j, NULL);
    gn_reg_err e = gn_store_org_ca_each(c->st, c->a->pos[2], ca_row, c);
    if (!TEXT(c))
        gn_json_end_arr(&c->j);
    return e ? fail_store(c, e) : EXIT_OK;
}

static int org_ca_remove(ctx *c)
{
    char fp[65] = "";
    gn_reg_err e = gn_store_org_ca_remove(c->st, c->a->pos[2], c->a->pos[3], fp);
    return e ? fail_store(c, e) : done(c, "CA", fp, "removed");
}

static int device_import(ctx *c)
{
    size_t len = 0;
    char *buf = slurp(c->a->pos[3], &len);
    if (!buf) {
        fprintf(stderr, "gannetctl: %s: %s\n", c->a->pos[3], strerror(errno));
        return EXIT_USAGE;
    }
    gn_devcsv p;
    gn_devcsv_init(&p, buf, len);
    gn_devcsv_rec r;
    char err[160];
    uint64_t added = 0, skipped = 0;
    int rc = EXIT_OK, k;
    gn_reg_err e = gn_store_begin(c->st);
    if (e) {
        free(buf);
        return fail_store(c, e);
    }
    while ((k = gn_devcsv_next(&p, &r, err, sizeof err)) == 1) {
        gn_store_device_spec sp = {
            .org = c->a->pos[2], .type = r.type, .id = r.id, .cls = GN_REG_DEVICE,
            .token = r.has_token ? r.token : NULL, .no_token = !r.has_token,
            .create_type = c->a->create_types,
        };
        e = gn_store_device_add(c->st, &sp, NULL, NULL);
        if (e == GN_REG_ERR_EXISTS && c->a->skip_existing) {
            skipped++;
            continue;
        }
        if (e) {
            fprintf(stderr, "gannetctl: %s: line %llu: %s\n", c->a->pos[3], (unsigned long long)p.line,
                    gn_store_errmsg(c->st));
            rc = exit_code_of(e);
            break;
        }
        added++;
    }
    if (k < 0) {
        fprintf(stderr, "gannetctl: %s: %s\n", c->a->pos[3], err);
        rc = EXIT_INVALID;
    }
    free(buf);
    if (rc != EXIT_OK) {
        gn_store_rollback(c->st);
        fprintf(stderr, "gannetctl: nothing imported\n");
        return rc;
    }
    if ((e = gn_store_commit(c->st)) != GN_REG_OK) {
        gn_store_rollback(c->st);
        return fail_store(c, e);
    }
    if (TEXT(c))
        printf("imported %llu devices into org %s (%llu already existed)\n", (unsigned long long)added,
               c->a->pos[2], (unsigned long long)skipped);
    else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", c->a->pos[2]);
        gn_json_int(&c->j, "imported", (int64_t)added);
        gn_json_int(&c->j, "skipped", (int64_t)skipped);
        gn_json_end_obj(&c->j);
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------- API keys */

static int apikey_create(ctx *c)
{
    uint32_t perms = GN_REG_PERM_ALL;
    if (c->a->perms && gn_reg_perms_parse(c->a->perms, &perms) != GN_REG_OK) {
        err_out("--perms: '%s' is not a list of event_send,event_recv,cmd_send,cmd_recv,"
                "dm_protocol,dm_status (or all, none)", c->a->perms, NULL);
        return EXIT_INVALID;
    }
    char key[GN_REG_APIKEY_LEN + 1], tok[GN_REG_TOKEN_MAX + 1] = "";
    gn_reg_err e = gn_store_apikey_create(c->st, c->a->pos[2], perms, c->a->description, c->a->token,
                                          key, tok);
    if (e)
        return fail_store(c, e);
    if (TEXT(c))
        printf("API key %s created in org %s\n", key, c->a->pos[2]);
    else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "org", c->a->pos[2]);
        gn_json_str(&c->j, "key", key);
    }
    print_token_once(c, tok);
    if (!TEXT(c))
        gn_json_end_obj(&c->j);
    return EXIT_OK;
}

static void apikey_out(ctx *c, const gn_reg_apikey *k)
{
    char perms[128];
    gn_reg_perms_format(k->perms, perms, sizeof perms);
    if (TEXT(c)) {
        printf("%-19s  %-8s  %-60s  %s\n", k->key, status_name(k->status), perms, k->description);
        return;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "key", k->key);
    gn_json_str(&c->j, "org", k->org);
    gn_json_str(&c->j, "status", status_name(k->status));
    gn_json_str(&c->j, "perms", perms);
    gn_json_str(&c->j, "description", k->description);
    gn_json_end_obj(&c->j);
}

static void apikey_row(void *p, const gn_reg_apikey *k) { apikey_out(p, k); }

static int apikey_list(ctx *c)
{
    if (TEXT(c))
        printf("%-19s  %-8s  %-60s  %s\n", "KEY", "STATUS", "PERMS", "DESCRIPTION");
    else
        gn_json_begin_arr(&c->j, NULL);
    gn_reg_err e = gn_store_apikey_list(c->st, c->a->pos[2], apikey_row, c);
    if (!TEXT(c))
        gn_json_end_arr(&c->j);
    return e ? fail_store(c, e) : EXIT_OK;
}

static int apikey_show(ctx *c)
{
    gn_reg_apikey k;
    gn_reg_err e = gn_store_apikey_get(c->st, c->a->pos[2], &k);
    if (e)
        return fail_store(c, e);
    apikey_out(c, &k);
    return EXIT_OK;
}

static int apikey_status(ctx *c, gn_reg_status s)
{
    gn_reg_err e = gn_store_apikey_set_status(c->st, c->a->pos[2], s);
    return e ? fail_store(c, e) : done(c, "key", c->a->pos[2], s ? "enabled" : "disabled");
}
static int apikey_disable(ctx *c) { return apikey_status(c, GN_REG_DISABLED); }
static int apikey_enable(ctx *c) { return apikey_status(c, GN_REG_ENABLED); }

static int apikey_remove(ctx *c)
{
    gn_reg_err e = gn_store_apikey_remove(c->st, c->a->pos[2]);
    return e ? fail_store(c, e) : done(c, "key", c->a->pos[2], "removed");
}

static int apikey_rotate(ctx *c)
{
    char tok[GN_REG_TOKEN_MAX + 1] = "";
    gn_reg_err e = gn_store_apikey_rotate(c->st, c->a->pos[2], c->a->token, tok);
    if (e)
        return fail_store(c, e);
    if (TEXT(c))
        printf("API key %s: new token set\n", c->a->pos[2]);
    else {
        gn_json_begin_obj(&c->j, NULL);
        gn_json_str(&c->j, "key", c->a->pos[2]);
    }
    print_token_once(c, tok);
    if (!TEXT(c))
        gn_json_end_obj(&c->j);
    return EXIT_OK;
}

static int apikey_perms(ctx *c)
{
    uint32_t perms;
    if (gn_reg_perms_parse(c->a->pos[3], &perms) != GN_REG_OK) {
        err_out("'%s' is not a list of event_send,event_recv,cmd_send,cmd_recv,dm_protocol,dm_status "
                "(or all, none)", c->a->pos[3], NULL);
        return EXIT_INVALID;
    }
    gn_reg_err e = gn_store_apikey_set_perms(c->st, c->a->pos[2], perms);
    return e ? fail_store(c, e) : done(c, "key", c->a->pos[2], "permissions set");
}

/* --------------------------------------------------------------- groups */

static int group_create(ctx *c)
{
    gn_reg_err e = gn_store_group_create(c->st, c->a->pos[2], c->a->pos[3], NULL);
    return e ? fail_store(c, e) : done(c, "group", c->a->pos[3], "created");
}

static void group_out(ctx *c, const gn_store_group *g)
{
    if (TEXT(c)) {
        printf("%-40s  %-7s  %-8llu  %llu\n", g->name, g->is_default ? "yes" : "no",
               (unsigned long long)g->members, (unsigned long long)g->gateways);
        return;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "group", g->name);
    gn_json_bool(&c->j, "default", g->is_default);
    gn_json_int(&c->j, "members", (int64_t)g->members);
    gn_json_int(&c->j, "gateways", (int64_t)g->gateways);
}

static void group_row(void *p, const gn_store_group *g)
{
    ctx *c = p;
    group_out(c, g);
    if (!TEXT(c))
        gn_json_end_obj(&c->j);
}

static int group_list(ctx *c)
{
    if (TEXT(c))
        printf("%-40s  %-7s  %-8s  %s\n", "GROUP", "DEFAULT", "MEMBERS", "GATEWAYS");
    else
        gn_json_begin_arr(&c->j, NULL);
    gn_reg_err e = gn_store_group_list(c->st, c->a->pos[2], group_row, c);
    if (!TEXT(c))
        gn_json_end_arr(&c->j);
    return e ? fail_store(c, e) : EXIT_OK;
}

static void member_row(void *p, const char *type, const char *id)
{
    ctx *c = p;
    if (TEXT(c)) {
        printf("  %s:%s\n", type, id);
        return;
    }
    gn_json_begin_obj(&c->j, NULL);
    gn_json_str(&c->j, "type", type);
    gn_json_str(&c->j, "id", id);
    gn_json_end_obj(&c->j);
}

static int group_show(ctx *c)
{
    gn_store_group g;
    gn_reg_err e = gn_store_group_get(c->st, c->a->pos[2], c->a->pos[3], &g);
    if (e)
        return fail_store(c, e);
    if (TEXT(c)) {
        printf("group:    %s\ndefault:  %s\nmembers:  %llu\n", g.name, g.is_default ? "yes" : "no",
               (unsigned long long)g.members);
    } else {
        group_out(c, &g);
        gn_json_begin_arr(&c->j, "member_list");
    }
    e = gn_store_group_each(c->st, c->a->pos[2], c->a->pos[3], false, member_row, c);
    if (TEXT(c))
        printf("gateways: %llu\n", (unsigned long long)g.gateways);
    else {
        gn_json_end_arr(&c->j);
        gn_json_begin_arr(&c->j, "gateway_list");
    }
    if (!e)
        e = gn_store_group_each(c->st, c->a->pos[2], c->a->pos[3], true, member_row, c);
    if (!TEXT(c)) {
        gn_json_end_arr(&c->j);
        gn_json_end_obj(&c->j);
    }
    return e ? fail_store(c, e) : EXIT_OK;
}

static int group_remove(ctx *c)
{
    gn_reg_err e = gn_store_group_remove(c->st, c->a->pos[2], c->a->pos[3]);
    return e ? fail_store(c, e) : done(c, "group", c->a->pos[3], "removed");
}

static int group_member(ctx *c, bool add)
{
    gn_reg_err e = gn_store_group_member(c->st, c->a->pos[2], c->a->pos[3], c->a->pos[4], c->a->pos[5], add);
    return e ? fail_store(c, e) : done(c, "group", c->a->pos[3], add ? "member added" : "member removed");
}
static int group_add(ctx *c) { return group_member(c, true); }
static int group_del(ctx *c) { return group_member(c, false); }

static int group_gw(ctx *c, bool attach)
{
    gn_reg_err e = gn_store_group_gateway(c->st, c->a->pos[2], c->a->pos[3], c->a->pos[4], c->a->pos[5], attach);
    return e ? fail_store(c, e) : done(c, "group", c->a->pos[3], attach ? "gateway attached" : "gateway detached");
}
static int group_attach(ctx *c) { return group_gw(c, true); }
static int group_detach(ctx *c) { return group_gw(c, false); }

/* ------------------------------------------------------------- commands */

static const command commands[] = {
    {"org", "create", 0, "", "--id --name --plan", "Create an org (a random 6-character id unless --id).", org_create},
    {"org", "list", 0, "", "", "List the orgs.", org_list},
    {"org", "show", 1, "ORG", "", "Show an org and all its settings.", org_show},
    {"org", "set", 3, "ORG SETTING VALUE", "",
     "Change one setting (see 'org show' for the names; rate_model watson|ioto|off). Quotas (0 = none): "
     "max_device_types, max_devices, max_api_keys, max_group_devices (exit 6 when full, S-100), "
     "max_devices_online (close 173, S-095).", org_set},
    {"org", "iplist", 1, "ORG", "", "Show the org's IP blacklist or whitelist (S-038).", iplist_show},
    {"org", "blacklist", 2, "ORG CIDR|CC[,CIDR|CC...]",
     "", "Refuse connections from these IPv4 / IPv6 addresses or prefixes and countries (two-letter "
         "codes; replaces the blacklist).",
     iplist_black},
    {"org", "whitelist", 2, "ORG CIDR|CC[,CIDR|CC...]",
     "", "Accept connections only from these addresses or prefixes and countries (replaces the "
         "whitelist).", iplist_white},
    {"org", "ipclear", 1, "ORG", "", "Remove the org's IP blacklist or whitelist.", iplist_clear},
    {"org", "ca add", 2, "ORG FILE.pem", "",
     "Upload CA certificates (PEM) that verify the org's client certificates (S-036).", org_ca_add},
    {"org", "ca list", 1, "ORG", "", "List the org's CA certificates.", org_ca_list},
    {"org", "ca remove", 2, "ORG FINGERPRINT", "", "Remove a CA (its SHA-256 fingerprint, 8+ hex digits).",
     org_ca_remove},
    {"org", "disable", 1, "ORG", "", "Disable an org: its clients are refused and disconnected.", org_disable},
    {"org", "enable", 1, "ORG", "", "Enable an org again.", org_enable},
    {"org", "remove", 1, "ORG", "", "Remove an org with everything in it.", org_remove},
    {"type", "add", 2, "ORG TYPE", "--gateway --description", "Add a device type (--gateway: for gateways).", type_add},
    {"type", "list", 1, "ORG", "", "List the device types of an org.", type_list},
    {"type", "show", 2, "ORG TYPE", "", "Show a device type and its settings.", type_show},
    {"type", "set", 4, "ORG TYPE SETTING VALUE", "",
     "Set a type's own setting: tls_policy POLICY (overrides the org's, S-035) or org; "
     "rate_in_msgs, rate_in_bytes, throttle_limit N (0 = the org's).", type_set},
    {"type", "disable", 2, "ORG TYPE", "", "Disable a type: all its devices are refused and disconnected.", type_disable},
    {"type", "enable", 2, "ORG TYPE", "", "Enable a type again.", type_enable},
    {"type", "remove", 2, "ORG TYPE", "--force", "Remove a type (--force: with its devices).", type_remove},
    {"device", "add", 3, "ORG TYPE ID", "--token --no-token", "Register a device; prints a generated token once.", device_add},
    {"device", "list", 1, "ORG", "--type", "List the devices of an org (--type: of one type).", device_list},
    {"device", "show", 3, "ORG TYPE ID", "", "Show a device.", device_show},
    {"device", "disable", 3, "ORG TYPE ID", "", "Disable a device: refused, and disconnected at once (S-034).", device_disable},
    {"device", "enable", 3, "ORG TYPE ID", "", "Enable a device again.", device_enable},
    {"device", "remove", 3, "ORG TYPE ID", "", "Remove a device.", device_remove},
    {"device", "rotate", 3, "ORG TYPE ID", "--token", "Replace a device's token; prints a generated one once.", device_rotate},
    {"device", "import", 2, "ORG FILE", "--create-types --skip-existing",
     "Import devices from a CSV/TSV file (type,id[,token] per line; '-' = stdin), all or nothing.", device_import},
    {"gateway", "add", 3, "ORG TYPE ID", "--token --no-token --standard --no-group",
     "Register a gateway (privileged unless --standard) with its default group gw:TYPE:ID.", device_add},
    {"gateway", "list", 1, "ORG", "--type", "List the gateways of an org.", device_list},
    {"gateway", "show", 3, "ORG TYPE ID", "", "Show a gateway.", device_show},
    {"gateway", "disable", 3, "ORG TYPE ID", "", "Disable a gateway.", device_disable},
    {"gateway", "enable", 3, "ORG TYPE ID", "", "Enable a gateway again.", device_enable},
    {"gateway", "remove", 3, "ORG TYPE ID", "", "Remove a gateway and its default group.", device_remove},
    {"gateway", "rotate", 3, "ORG TYPE ID", "--token", "Replace a gateway's token.", device_rotate},
    {"gateway", "role", 4, "ORG TYPE ID privileged|standard", "", "Set a gateway's role (S-057).", gateway_role},
    {"apikey", "create", 1, "ORG", "--perms --description --token",
     "Create an API key a-ORG-XXXXXXXXXX; prints its token once.", apikey_create},
    {"apikey", "list", 1, "ORG", "", "List the API keys of an org.", apikey_list},
    {"apikey", "show", 1, "KEY", "", "Show an API key.", apikey_show},
    {"apikey", "disable", 1, "KEY", "", "Disable a key: its applications are refused and disconnected.", apikey_disable},
    {"apikey", "enable", 1, "KEY", "", "Enable a key again.", apikey_enable},
    {"apikey", "remove", 1, "KEY", "", "Remove a key.", apikey_remove},
    {"apikey", "rotate", 1, "KEY", "--token", "Replace a key's token; prints a generated one once.", apikey_rotate},
    {"apikey", "perms", 2, "KEY LIST", "", "Set a key's permissions (comma-separated, S-071).", apikey_perms},
    {"group", "create", 2, "ORG NAME", "", "Create a resource group.", group_create},
    {"group", "list", 1, "ORG", "", "List the resource groups of an org.", group_list},
    {"group", "show", 2, "ORG NAME", "", "Show a group with its members and gateways.", group_show},
    {"group", "remove", 2, "ORG NAME", "", "Remove a group (not a gateway's default group).", group_remove},
    {"group", "add", 4, "ORG NAME TYPE ID", "", "Add a device to a group.", group_add},
    {"group", "del", 4, "ORG NAME TYPE ID", "", "Take a device out of a group.", group_del},
    {"group", "attach", 4, "ORG NAME GWTYPE GWID", "", "Let a gateway act for the group's devices.", group_attach},
    {"group", "detach", 4, "ORG NAME GWTYPE GWID", "", "Detach a gateway from a group.", group_detach},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char *const option_help[][2] = {
    {"--id ID", "org id to use (6 characters of a-z 0-9)"},
    {"--name TEXT", "display name"},
    {"--plan standard|lite", "default limits of the org (S-094, S-095, S-100)"},
    {"--gateway", "the type is for gateways"},
    {"--description TEXT", "free text"},
    {"--force", "also remove what depends on it"},
    {"--token TOKEN", "use this token (8-36 of A-Z a-z 0-9 _ . ! & @ ? * + ( ) -) instead of generating one"},
    {"--no-token", "store no token (the device cannot authenticate itself; e.g. behind a gateway)"},
    {"--type TYPE", "only devices of this type"},
    {"--create-types", "create missing device types"},
    {"--skip-existing", "skip devices that already exist instead of failing"},
    {"--standard", "a standard gateway: no auto-registration (S-057)"},
    {"--no-group", "no default resource group: the gateway may act for every device of the org (S-056)"},
    {"--perms LIST", "event_send,event_recv,cmd_send,cmd_recv,dm_protocol,dm_status, all or none [all]"},
};

static void usage_global(FILE *o)
{
    fprintf(o, "usage: gannetctl [--db PATH] [--json] [--kdf-iterations N] NOUN VERB ARGS... [OPTIONS]\n\n"
               "Manage the platform registry gannetd reads (changes apply without a restart).\n\n"
               "Global options:\n"
               "  --db PATH            database file [$GANNET_REGISTRY_DB or " GN_REGISTRY_DEFAULT_PATH "]\n"
               "  --json               machine-readable output on stdout\n"
               "  --kdf-iterations N   PBKDF2 cost of tokens hashed by this command [database default]\n"
               "  --help               this text; 'gannetctl NOUN VERB --help' for one command\n\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(o, "  %-8s %-9s %-34s %s\n", commands[i].noun, commands[i].verb, commands[i].args_usage,
                commands[i].help);
    fprintf(o, "\nExit codes: 0 ok, 1 internal error, 2 usage, 3 not found, 4 already exists, 5 invalid value,\n"
               "6 limit reached (an org quota or the 10 groups of a device or gateway), 7 not allowed in this state,\n"
               "8 database error, 9 unsupported schema.\n");
}

static void usage_command(FILE *o, const command *c)
{
    fprintf(o, "usage: gannetctl [--db PATH] [--json] %s %s %s%s%s\n\n%s\n", c->noun, c->verb,
            c->args_usage, *c->options ? " " : "", *c->options ? "[OPTIONS]" : "", c->help);
    if (!*c->options)
        return;
    fprintf(o, "\nOptions:\n");
    for (size_t i = 0; i < sizeof option_help / sizeof option_help[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s", option_help[i][0]);
        char *sp = strchr(name, ' ');
        if (sp)
            *sp = '\0';
        char pat[40];
        snprintf(pat, sizeof pat, "%s", name);
        const char *hit = strstr(c->options, pat);
        size_t pl = strlen(pat);
        if (hit && (hit[pl] == '\0' || hit[pl] == ' '))
            fprintf(o, "  %-22s %s\n", option_help[i][0], option_help[i][1]);
    }
}

static const command *find_command(const char *noun, const char *verb)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].noun, noun) && !strcmp(commands[i].verb, verb))
            return &commands[i];
    return NULL;
}

/* "org ca add ORG ...": a two-word verb becomes pos[1] ("ca add"), the
 * arguments after it move up one. */
static void join_two_word_verb(args *a)
{
    static char verb[64];
    if (a->npos < 3 || find_command(a->pos[0], a->pos[1]))
        return;
    snprintf(verb, sizeof verb, "%s %s", a->pos[1], a->pos[2]);
    if (!find_command(a->pos[0], verb))
        return;
    a->pos[1] = verb;
    for (int i = 2; i + 1 < a->npos; i++)
        a->pos[i] = a->pos[i + 1];
    a->npos--;
}

static bool known_noun(const char *noun)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].noun, noun))
            return true;
    return false;
}

/* Parse argv into a. Returns 0 or EXIT_USAGE (message printed). */
static int parse_args(int argc, char **argv, args *a)
{
    static const char *const with_value[] = {"--db", "--kdf-iterations", "--token", "--name", "--id",
                                             "--plan", "--description", "--perms", "--type"};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] != '-' || !strcmp(s, "-")) {
            if (a->npos == MAX_POS) {
                err_out("too many arguments", NULL, NULL);
                return EXIT_USAGE;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        if (!strcmp(s, "--")) {
            while (++i < argc && a->npos < MAX_POS)
                a->pos[a->npos++] = argv[i];
            break;
        }
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            a->help = true;
            continue;
        }
        const char *value = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            if (!strcmp(s, with_value[k])) {
                if (i + 1 >= argc) {
                    err_out("%s needs a value", s, NULL);
                    return EXIT_USAGE;
                }
                value = argv[++i];
            }
        if (value) {
            if (!strcmp(s, "--db")) a->db = value;
            else if (!strcmp(s, "--token")) a->token = value;
            else if (!strcmp(s, "--name")) a->name = value;
            else if (!strcmp(s, "--id")) a->id = value;
            else if (!strcmp(s, "--plan")) a->plan = value;
            else if (!strcmp(s, "--description")) a->description = value;
            else if (!strcmp(s, "--perms")) a->perms = value;
            else if (!strcmp(s, "--type")) a->type = value;
            else {
                char *end;
                unsigned long v = strtoul(value, &end, 10);
                if (*end || !*value || v < 1 || v > 1000000) {
                    err_out("--kdf-iterations must be 1..1000000, not '%s'", value, NULL);
                    return EXIT_USAGE;
                }
                a->iterations = (uint32_t)v;
            }
        } else if (!strcmp(s, "--json")) a->json = true;
        else if (!strcmp(s, "--gateway")) a->gateway = true;
        else if (!strcmp(s, "--no-token")) a->no_token = true;
        else if (!strcmp(s, "--no-group")) a->no_group = true;
        else if (!strcmp(s, "--standard")) a->standard = true;
        else if (!strcmp(s, "--force")) a->force = true;
        else if (!strcmp(s, "--create-types")) a->create_types = true;
        else if (!strcmp(s, "--skip-existing")) a->skip_existing = true;
        else {
            err_out("unknown option '%s' (see gannetctl --help)", s, NULL);
            return EXIT_USAGE;
        }
        if (strcmp(s, "--db") && strcmp(s, "--json") && strcmp(s, "--kdf-iterations")) {
            size_t n = strlen(a->seen);
            snprintf(a->seen + n, sizeof a->seen - n, "%s ", s);
        }
    }
    return 0;
}

/* Every command option given must be one the command takes. */
static int check_options(const args *a, const command *c)
{
    char seen[256];
    snprintf(seen, sizeof seen, "%s", a->seen);
    for (char *tok = strtok(seen, " "); tok; tok = strtok(NULL, " ")) {
        const char *hit = strstr(c->options, tok);
        size_t n = strlen(tok);
        if (!hit || (hit[n] != '\0' && hit[n] != ' ')) {
            fprintf(stderr, "gannetctl: %s %s does not take %s (see gannetctl %s %s --help)\n", c->noun,
                    c->verb, tok, c->noun, c->verb);
            return EXIT_USAGE;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if (a.npos == 0) {
        usage_global(a.help ? stdout : stderr);
        return a.help ? EXIT_OK : EXIT_USAGE;
    }
    join_two_word_verb(&a);
    if (a.npos == 1 || !find_command(a.pos[0], a.pos[1])) {
        if (!known_noun(a.pos[0])) {
            err_out("unknown command '%s' (see gannetctl --help)", a.pos[0], NULL);
            return EXIT_USAGE;
        }
        /* "org ca --help": the verbs that start with "ca " */
        size_t pl = a.npos == 2 ? strlen(a.pos[1]) : 0;
        bool group = false;
        for (size_t i = 0; pl && i < NCOMMANDS; i++)
            group |= !strcmp(commands[i].noun, a.pos[0]) && !strncmp(commands[i].verb, a.pos[1], pl) &&
                     commands[i].verb[pl] == ' ';
        bool listing = a.help && (a.npos == 1 || group);
        if (a.npos >= 2 && !group)
            err_out("unknown command '%s %s'", a.pos[0], a.pos[1]);
        FILE *o = listing ? stdout : stderr;
        fprintf(o, "%s%s%s commands:\n", a.pos[0], group ? " " : "", group ? a.pos[1] : "");
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (!strcmp(commands[i].noun, a.pos[0]) &&
                (!group || (!strncmp(commands[i].verb, a.pos[1], pl) && commands[i].verb[pl] == ' ')))
                fprintf(o, "  gannetctl %s %s %s\n", commands[i].noun, commands[i].verb, commands[i].args_usage);
        return listing ? EXIT_OK : EXIT_USAGE;
    }
    const command *cmd = find_command(a.pos[0], a.pos[1]);
    if (a.help) {
        usage_command(stdout, cmd);
        return EXIT_OK;
    }
    if (a.npos - 2 != cmd->nargs) {
        fprintf(stderr, "gannetctl: %s %s takes %d argument%s: %s\n", cmd->noun, cmd->verb, cmd->nargs,
                cmd->nargs == 1 ? "" : "s", *cmd->args_usage ? cmd->args_usage : "(none)");
        return EXIT_USAGE;
    }
    if ((rc = check_options(&a, cmd)) != 0)
        return rc;
    if (!a.db)
        a.db = getenv("GANNET_REGISTRY_DB");
    if (!a.db || !*a.db)
        a.db = GN_REGISTRY_DEFAULT_PATH;
    ctx c = {.a = &a};
    char err[512];
    /* only 'org create' brings a database into existence */
    int flags = cmd->fn == org_create ? GN_STORE_CREATE : 0;
    gn_reg_err e = gn_store_open(&c.st, a.db, flags, 5000, err, sizeof err);
    if (e) {
        fprintf(stderr, "gannetctl: %s\n", err);
        return e == GN_REG_ERR_NOT_FOUND ? EXIT_DB : exit_code_of(e);
    }
    gn_store_set_iterations(c.st, a.iterations);
    gn_json_init(&c.j, stdout);
    rc = cmd->fn(&c);
    if (a.json && rc == EXIT_OK)
        gn_json_done(&c.j);
    gn_store_close(c.st);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "gannetctl: writing the output: %s\n", strerror(errno));
        return EXIT_INTERNAL;
    }
    return rc;
}
