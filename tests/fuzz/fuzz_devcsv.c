/* tests/fuzz/fuzz_devcsv.c — libFuzzer target for the untrusted text the
 * registry parses: gannetctl's device import format (tools/gannetctl/
 * devcsv.c), stored credentials (gn_reg_cred_parse), permission lists
 * org settings by name, and IP / country lists (S-038). Properties: no crash / over-read (ASan,
 * UBSan); every record has a non-empty type and id of at most 64 bytes
 * without line breaks; an error is sticky; the records written back out
 * as quoted CSV parse to the same records; a credential that parses
 * formats back to the same text, an IP list back to the same list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/registry_store.h"
#include "tools/gannetctl/devcsv.h"

#include "tests/fuzz/fuzz_check.h"

enum { MAX_RECS = 256 };

static size_t put_field(char *out, const char *f)
{
    size_t n = 0;
    out[n++] = '"';
    for (; *f; f++) {
        if (*f == '"')
            out[n++] = '"';
        out[n++] = *f;
    }
    out[n++] = '"';
    return n;
}

static void check_csv(const uint8_t *data, size_t size)
{
    static gn_devcsv_rec recs[MAX_RECS];
    gn_devcsv p;
    gn_devcsv_init(&p, (const char *)data, size);
    char err[160];
    int n = 0, k;
    while (n < MAX_RECS && (k = gn_devcsv_next(&p, &recs[n], err, sizeof err)) == 1) {
        gn_devcsv_rec *r = &recs[n];
        FUZZ_CHECK(r->type[0] && r->id[0]);
        FUZZ_CHECK(strlen(r->type) <= GN_DEVCSV_FIELD_MAX && strlen(r->id) <= GN_DEVCSV_FIELD_MAX);
        FUZZ_CHECK(!strchr(r->type, '\n') && !strchr(r->id, '\n') && !strchr(r->token, '\n'));
        FUZZ_CHECK(r->has_token == (r->token[0] != '\0'));
        n++;
    }
    if (n < MAX_RECS && k < 0) {
        FUZZ_CHECK(strncmp(err, "line ", 5) == 0);
        gn_devcsv_rec x;
        FUZZ_CHECK(gn_devcsv_next(&p, &x, err, sizeof err) == -1);
    }
    /* only comma-separated records without tabs or CRs can be written back as CSV */
    for (int i = 0; i < n; i++)
        if (strpbrk(recs[i].type, "\t\r") || strpbrk(recs[i].id, "\t\r") || strpbrk(recs[i].token, "\t\r"))
            return;
    if (n && !strcmp(recs[0].type, "type") && !strcmp(recs[0].id, "id"))
        return;                          /* would read back as a header */
    char *out = malloc((size_t)n * (3 * (2 * GN_DEVCSV_FIELD_MAX + 3)) + 1);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        o += put_field(out + o, recs[i].type);
        out[o++] = ',';
        o += put_field(out + o, recs[i].id);
        if (recs[i].has_token) {
            out[o++] = ',';
            o += put_field(out + o, recs[i].token);
        }
        out[o++] = '\n';
    }
    gn_devcsv_init(&p, out, o);
    for (int i = 0; i < n; i++) {
        gn_devcsv_rec x;
        int rc = gn_devcsv_next(&p, &x, err, sizeof err);
        if (rc != 1 && recs[i].type[0] == '#')
            break;                       /* a leading '#' reads back as a comment */
        FUZZ_CHECK(rc == 1);
        FUZZ_CHECK(!strcmp(x.type, recs[i].type) && !strcmp(x.id, recs[i].id));
        FUZZ_CHECK(!strcmp(x.token, recs[i].token));
    }
    free(out);
}

static void check_text(const uint8_t *data, size_t size)
{
    char buf[512];
    size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    gn_reg_cred c;
    if (gn_reg_cred_parse(buf, &c) == GN_REG_OK && c.algo == GN_REG_HASH_PBKDF2_SHA256) {
        char back[GN_REG_CRED_TEXT_MAX];
        gn_reg_cred_format(&c, back);
        gn_reg_cred d;
        FUZZ_CHECK(gn_reg_cred_parse(back, &d) == GN_REG_OK);
        FUZZ_CHECK(!memcmp(&c, &d, sizeof c));
    }
    uint32_t perms;
    if (gn_reg_perms_parse(buf, &perms) == GN_REG_OK)
        FUZZ_CHECK((perms & ~(uint32_t)GN_REG_PERM_ALL) == 0);
    char *eq = strchr(buf, '=');
    if (eq) {
        *eq = '\0';
        gn_reg_org_settings s;
        gn_reg_org_settings_default(&s, GN_REG_PLAN_STANDARD);
        if (gn_reg_settings_set(&s, buf, eq + 1) == GN_REG_OK)
            FUZZ_CHECK(s.max_qos <= 2 && s.tls_policy <= 4);
    }
    /* An IP / country list that parses formats to text that parses to the
     * same bytes; countries are upper-case letters. */
    gn_reg_ipacl acl, again;
    if (gn_reg_ipacl_parse(buf, &acl, NULL, 0) == GN_REG_OK) {
        char text[GN_REG_IPACL_TEXT_MAX];
        gn_reg_ipacl_format(&acl, text, sizeof text);
        FUZZ_CHECK(gn_reg_ipacl_parse(text, &again, NULL, 0) == GN_REG_OK);
        FUZZ_CHECK(!memcmp(&acl, &again, sizeof acl));
        for (uint8_t i = 0; i < acl.ncc; i++)
            FUZZ_CHECK(acl.cc[i][0] >= 'A' && acl.cc[i][0] <= 'Z' && acl.cc[i][1] >= 'A' &&
                       acl.cc[i][1] <= 'Z');
    }
    gn_reg_valid_org(buf, n);
    gn_reg_valid_id(buf, n);
    gn_reg_valid_apikey(buf, n);
    gn_reg_valid_group(buf, n);
    gn_reg_token_valid(buf, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_csv(data, size);
    check_text(data, size);
    return 0;
}
