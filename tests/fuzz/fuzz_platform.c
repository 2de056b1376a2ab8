/* tests/fuzz/fuzz_platform.c — libFuzzer target for the platform rule
 * parsers: the client-id parser (engine/platform/clientid.c, with the
 * scalable applications' shared-id shape and group prefix) and the topic
 * rules and rewrite (engine/platform/topics.c). Input: first byte picks the
 * split point between a client id and a topic. Checks: no crash or read
 * past the input (ASan/UBSan); an accepted id has fields of the regex and
 * lengths S-013 allows; a topic the rules accept is rewritten into a form
 * that starts with the org and maps back (outbound) to a topic no longer
 * than the internal one; a refused topic writes nothing the caller uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/clientid.h"
#include "engine/platform/topics.h"

#include "tests/fuzz/fuzz_check.h"

static void check_ident(const gn_pident *p)
{
    FUZZ_CHECK(p->cls == GN_PC_DEVICE || p->cls == GN_PC_GATEWAY || p->cls == GN_PC_APP ||
               p->cls == GN_PC_SCALABLE);
    FUZZ_CHECK(p->org_len == strlen(p->org) && (p->org_len == 6 || p->quickstart));
    FUZZ_CHECK(gn_pident_field_ok(p->id, p->id_len));
    if (p->cls == GN_PC_DEVICE || p->cls == GN_PC_GATEWAY)
        FUZZ_CHECK(gn_pident_field_ok(p->type, p->type_len));
    if (p->has_inst)
        FUZZ_CHECK(p->cls == GN_PC_SCALABLE && gn_pident_field_ok(p->inst, p->inst_len));
}

static void check_topic(const gn_pident *p, const uint8_t *t, size_t len, bool sub)
{
    static char out[65536 + GN_PTOPIC_EXTRA], back[65536 + GN_PTOPIC_EXTRA];
    size_t n = 0;
    gn_ptopic_match m;
    gn_ptopic_verdict v = sub ? gn_ptopic_subscribe(p, t, len, out, sizeof out, &n, &m)
                              : gn_ptopic_publish(p, t, len, out, sizeof out, &n, &m);
    if (v != GN_PT_OK)
        return;
    FUZZ_CHECK(n > p->org_len && memcmp(out, p->org, p->org_len) == 0 && out[p->org_len] == '/');
    FUZZ_CHECK(len > 0 && t[0] != '$');
    if (m.names_device) {
        FUZZ_CHECK(m.type && m.id && m.type >= t && m.id >= t);
        FUZZ_CHECK(m.type + m.type_len <= t + len && m.id + m.id_len <= t + len);
    }
    size_t b = gn_ptopic_outbound(p, out, n, back, sizeof back);
    FUZZ_CHECK(b <= n);
    if (!sub && p->cls != GN_PC_DEVICE) {
        /* gateways and applications: the rewrite is only the org in front */
        FUZZ_CHECK(b == len && memcmp(back, t, len) == 0);
    }
    if (!sub && p->cls == GN_PC_DEVICE) {
        /* a device's own topic comes back as it wrote it */
        FUZZ_CHECK(b == len && memcmp(back, t, len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = data[0];
    data++;
    size--;
    if (split > size)
        split = size;
    gn_pident p;
    gn_pid_result r = gn_pident_parse(data, split, &p);
    (void)gn_pid_result_text(r);
    /* S-020: an accepted A id without an instance is the shared-id shape,
     * and no other accepted id is */
    bool shares = gn_pident_shares_id(data, split);
    if (r == GN_PID_OK)
        FUZZ_CHECK(shares == (p.cls == GN_PC_SCALABLE && !p.has_inst));
    FUZZ_CHECK(gn_pid_result_connack_v3(r) == 2 || gn_pid_result_connack_v3(r) == 5);
    if (r != GN_PID_OK) {
        /* still exercise the topic rules for every class */
        static const char *ids[] = { "d:abc123:sensor:s1", "g:abc123:gw:g1", "a:abc123:app",
                                     "A:quickstart:app:i", "d:quickstart:t:q" };
        r = gn_pident_parse((const uint8_t *)ids[split % 5], strlen(ids[split % 5]), &p);
        FUZZ_CHECK(r == GN_PID_OK || (split % 5 == 3));
        if (r != GN_PID_OK)
            return 0;
    }
    check_ident(&p);
    char prefix[GN_PLAT_SHARE_PREFIX_MAX];
    size_t pl = gn_pident_share_prefix(&p, prefix, sizeof prefix);
    FUZZ_CHECK((pl > 0) == (p.cls == GN_PC_SCALABLE));      /* always fits */
    FUZZ_CHECK(pl == 0 || (prefix[pl - 1] == '/' && strlen(prefix) == pl));
    check_topic(&p, data + split, size - split, false);
    check_topic(&p, data + split, size - split, true);
    return 0;
}
