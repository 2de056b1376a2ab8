/* engine/platform/tls_policy.c — an org's TLS policy at CONNECT
 * (PLATFORM.md S-003, S-004, S-007, S-035 ... S-037, S-110): plain TCP only
 * for TLS Optional (and for Quickstart, which has no TLS); for devices and
 * gateways the client certificate the handshake verified, whose CN or SAN
 * email must be the client id's `d:{typeId}:{deviceId}` /
 * `g:{typeId}:{deviceId}` (S-036), with
 * the org taken from the TLS server name `{orgId}.messaging.…` when the
 * client sent one. Applications keep authenticating with API keys. */
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

gn_ptls_verdict gn_plat_tls_check(gn_conn *c, const gn_pident *id, const gn_pdir_org *org)
{
    gn_ptls_verdict ok = { .need_token = true };
    bool tls = gn_conn_is_tls(c);
    if (org->quickstart)        /* S-004, S-110: port 1883 only */
        return tls ? refused(GN_CLOSE_NOT_AUTHORIZED, "Quickstart does not support TLS") : ok;
    if (org->tls_policy == GN_PDIR_TLS_OPTIONAL)
        return ok;
    if (!tls)                   /* S-003: CONNACK 5, close 180 (inferred) */
        return refused(GN_CLOSE_NOT_AUTHORIZED, "the organization's security policy requires TLS");
    if (org->tls_policy == GN_PDIR_TLS_TOKEN ||
        (id->cls != GN_PC_DEVICE && id->cls != GN_PC_GATEWAY))
        return ok;
    const char *cn = gn_conn_cert_cn(c), *email = gn_conn_cert_email(c);
    if (!cn && !email)
        return org->tls_policy == GN_PDIR_TLS_CERT_OR_TOKEN
            ? ok : refused(GN_CLOSE_CERT_MISSING, "the organization requires a client certificate");
    if (!cert_names(cn, id) && !cert_names(email, id))
        return refused(GN_CLOSE_CERT_INVALID, "the client certificate names another client");
    if (!sni_org_ok(c, id))
        return refused(GN_CLOSE_CERT_INVALID, "the TLS server name names another organization");
    return (gn_ptls_verdict){ .cert_proven = true,
                              .need_token = org->tls_policy == GN_PDIR_TLS_TOKEN_AND_CERT };
}
