/* engine/platform/tls_policy.c — the TLS policy at CONNECT (PLATFORM.md
 * S-003, S-004, S-007, S-035 ... S-037, S-110): the device type's own
 * policy where it has one, else the org's (S-035); plain TCP only for TLS
 * Optional (and for Quickstart, which has no TLS); a client certificate
 * must chain to the org's trust (tls_ca_file plus the CAs the org
 * uploaded, S-036); for devices and gateways under a certificate policy
 * the verified certificate's CN or SAN email must be the client id's
 * `d:{typeId}:{deviceId}` / `g:{typeId}:{deviceId}` (S-036), with the org
 * taken from the TLS server name `{orgId}.messaging.…` when the client
 * sent one. Applications keep authenticating with API keys. Also the
 * handshake's trust hook (gn_plat_tls_trust). */
#include <stdio.h>
#include <string.h>

#include "codec/errors.h"
#include "engine/conn.h"
#include "engine/platform/platform_int.h"

/* Does the certificate name (CN or SAN email) say this client id's class,
 * type and id? */
static bool cert_names(const char *cn, const gn_pident *id)
{
    if (!cn)
        return false;
    char want[4 + 2 * GN_PLAT_FIELD_MAX + 1];
    snprintf(want, sizeof want, "%c:%.*s:%.*s", (char)id->cls, (int)id->type_len, id->type,
             (int)id->id_len, id->id);
    return strcmp(cn, want) == 0;
}

/* S-007: a server name `{orgId}.messaging.…` names the org; any other name
 * (or none: IP addresses are not sent) says nothing. */
static bool sni_org_ok(const gn_conn *c, const gn_pident *id)
{
    const char *sni = gn_conn_tls_sni(c);
    const char *dot = sni ? strchr(sni, '.') : NULL;
    if (!dot || strncmp(dot, ".messaging.", 11) != 0)
        return true;
    return (size_t)(dot - sni) == id->org_len && memcmp(sni, id->org, id->org_len) == 0;
}

static gn_ptls_verdict refused(uint16_t code, const char *why)
{
    return (gn_ptls_verdict){ .close_code = code, .why = why };
}

struct x509_store_st *gn_plat_tls_trust(void *ctx, const char *server_name)
{
    gn_platform *p = ctx;
    return gn_pdir_trust_handshake(p->dir, server_name);
}

/* S-035: a device's or gateway's type may have its own policy. */
static uint8_t effective_policy(gn_pdir_shard *dir, const gn_pident *id, const gn_pdir_org *org)
{
    uint8_t policy = org->tls_policy;
    if (id->cls == GN_PC_DEVICE || id->cls == GN_PC_GATEWAY)
        gn_pdir_type_tls_policy(dir, id->org, id->org_len, id->type, id->type_len, &policy);
    return policy;
}

gn_ptls_verdict gn_plat_tls_check(gn_conn *c, const gn_pident *id, const gn_pdir_org *org,
                                  bool recheck)
{
    gn_ptls_verdict ok = { .need_token = true };
    bool tls = gn_conn_is_tls(c);
    if (org->quickstart)        /* S-004, S-110: port 1883 only */
        return tls ? refused(GN_CLOSE_NOT_AUTHORIZED, "Quickstart does not support TLS") : ok;
    gn_pdir_shard *dir = gn_plat_shard(c->shard)->dir;
    struct x509_store_st *trust = NULL;
    /* S-036: the certificate verified against the union of every org's
     * CAs in the handshake must chain to this org's own (or tls_ca_file).
     * A resumed session's certificate was verified when the session was
     * made, maybe against a CA removed since: verify it again too. */
    bool again = recheck || (tls && gn_conn_tls_resumed(c));
    if (tls && gn_pdir_trust_org(dir, id->org, id->org_len, again, &trust) &&
        gn_conn_cert_verify(c, trust) > 0)
        return refused(GN_CLOSE_CERT_INVALID,
                       "the client certificate is not issued by a CA of this organization");
    uint8_t policy = effective_policy(dir, id, org);
    if (policy == GN_PDIR_TLS_OPTIONAL)
        return ok;
    if (!tls)                   /* S-003: CONNACK 5, close 180 (inferred) */
        return refused(GN_CLOSE_NOT_AUTHORIZED, "the security policy requires TLS");
    if (policy == GN_PDIR_TLS_TOKEN || (id->cls != GN_PC_DEVICE && id->cls != GN_PC_GATEWAY))
        return ok;
    const char *cn = gn_conn_cert_cn(c), *email = gn_conn_cert_email(c);
    if (!cn && !email)
        return policy == GN_PDIR_TLS_CERT_OR_TOKEN
            ? ok : refused(GN_CLOSE_CERT_MISSING, "the security policy requires a client certificate");
    if (!cert_names(cn, id) && !cert_names(email, id))
        return refused(GN_CLOSE_CERT_INVALID, "the client certificate names another client");
    if (!sni_org_ok(c, id))
        return refused(GN_CLOSE_CERT_INVALID, "the TLS server name names another organization");
    return (gn_ptls_verdict){ .cert_proven = true,
                              .need_token = policy == GN_PDIR_TLS_TOKEN_AND_CERT };
}
