/* engine/platform/reg_ipacl.c — an org's IP access list (PLATFORM.md
 * S-038): the text form stored as the org setting "ip_acl" (parse and
 * format) and the CIDR and country matcher the CONNECT hook runs. IPv4 is
 * held as IPv4-mapped IPv6 so a v4 prefix also matches a v4 peer seen on
 * a dual-stack listener. The peer's country comes from the caller
 * (engine/platform/geoip.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/registry.h"

static void set_err(char *err, size_t len, const char *fmt, const char *a)
{
    if (err && len)
        snprintf(err, len, fmt, a);
}

bool gn_reg_prefix_parse(const char *s, size_t n, gn_reg_prefix *p, char *err, size_t errlen)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) {
        set_err(err, errlen, "'%s' is not an address or CIDR prefix", n ? "(too long)" : "(empty)");
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    char *slash = strchr(buf, '/');
    int bits = -1;
    if (slash) {
        *slash = 0;
        const char *b = slash + 1;
        if (!*b || strlen(b) > 3)
            goto bad;
        bits = 0;
        for (; *b; b++) {
            if (*b < '0' || *b > '9')
                goto bad;
            bits = bits * 10 + (*b - '0');
        }
    }
    memset(p, 0, sizeof *p);
    uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        if (bits > 32)
            goto bad;
        p->addr[10] = p->addr[11] = 0xff;
        memcpy(p->addr + 12, v4, 4);
        p->bits = (uint8_t)(96 + (bits < 0 ? 32 : bits));
    } else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
        if (bits > 128)
            goto bad;
        p->bits = (uint8_t)(bits < 0 ? 128 : bits);
    } else {
        goto bad;
    }
    for (unsigned i = p->bits; i < 128; i++)
        if (p->addr[i / 8] & (0x80u >> (i % 8))) {
            memcpy(buf, s, n);
            set_err(err, errlen, "'%s' has bits set after its prefix length", buf);
            return false;
        }
    return true;
bad:
    memcpy(buf, s, n);
    set_err(err, errlen, "'%s' is not an address or CIDR prefix", buf);
    return false;
}

bool gn_reg_country_parse(const char *s, size_t n, char out[2])
{
    if (n != 2)
        return false;
    for (int i = 0; i < 2; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return false;
        out[i] = c;
    }
    return true;
}

static int cc_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 2);
}

static int prefix_cmp(const void *a, const void *b)
{
    const gn_reg_prefix *x = a, *y = b;
    int c = memcmp(x->addr, y->addr, 16);
    return c ? c : (int)x->bits - (int)y->bits;
}

gn_reg_err gn_reg_ipacl_parse(const char *text, gn_reg_ipacl *out, char *err, size_t errlen)
{
    gn_reg_ipacl a;
    memset(&a, 0, sizeof a);
    if (!*text || !strcmp(text, "none")) {
        *out = a;
        return GN_REG_OK;
    }
    const char *list;
    if (!strncmp(text, "black:", 6))
        a.mode = GN_REG_IPACL_BLACK, list = text + 6;
    else if (!strncmp(text, "white:", 6))
        a.mode = GN_REG_IPACL_WHITE, list = text + 6;
    else {
        set_err(err, errlen, "'%s': an IP list is black:CIDR|CC,... or white:CIDR|CC,... (or none)", text);
        return GN_REG_ERR_INVALID;
    }
    if (!*list) {
        set_err(err, errlen, "%s", "an IP list needs at least one address or prefix");
        return GN_REG_ERR_INVALID;
    }
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char cc[2];
        if (gn_reg_country_parse(p, n, cc)) {
            if (a.ncc == GN_REG_IPACL_CC_MAX) {
                if (err && errlen)
                    snprintf(err, errlen, "more than %d countries in an IP list", GN_REG_IPACL_CC_MAX);
                return GN_REG_ERR_INVALID;
            }
            memcpy(a.cc[a.ncc++], cc, 2);
        } else {
            if (a.n == GN_REG_IPACL_MAX) {
                if (err && errlen)
                    snprintf(err, errlen, "more than %d prefixes in an IP list", GN_REG_IPACL_MAX);
                return GN_REG_ERR_INVALID;
            }
            if (!gn_reg_prefix_parse(p, n, &a.p[a.n], err, errlen))
                return GN_REG_ERR_INVALID;
            a.n++;
        }
        if (!e)
            break;
        p = e + 1;
    }
    qsort(a.p, a.n, sizeof a.p[0], prefix_cmp);
    uint8_t w = 0;
    for (uint8_t i = 0; i < a.n; i++)
        if (!w || prefix_cmp(&a.p[w - 1], &a.p[i]))
            a.p[w++] = a.p[i];
    memset(&a.p[w], 0, (size_t)(a.n - w) * sizeof a.p[0]);     /* equal lists are equal bytes */
    a.n = w;
    qsort(a.cc, a.ncc, sizeof a.cc[0], cc_cmp);
    w = 0;
    for (uint8_t i = 0; i < a.ncc; i++)
        if (!w || memcmp(a.cc[w - 1], a.cc[i], 2))
            memcpy(a.cc[w++], a.cc[i], 2);
    memset(&a.cc[w], 0, (size_t)(a.ncc - w) * sizeof a.cc[0]);
    a.ncc = w;
    *out = a;
    return GN_REG_OK;
}

static bool is_v4(const gn_reg_prefix *p)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return p->bits >= 96 && !memcmp(p->addr, mapped, 12);
}

void gn_reg_ipacl_format(const gn_reg_ipacl *acl, char *out, size_t len)
{
    if (!len)
        return;
    out[0] = 0;
    if (acl->mode == GN_REG_IPACL_NONE || (!acl->n && !acl->ncc)) {
        snprintf(out, len, "none");
        return;
    }
    size_t w = (size_t)snprintf(out, len, "%s:", acl->mode == GN_REG_IPACL_BLACK ? "black" : "white");
    for (uint8_t i = 0; i < acl->n && w < len; i++) {
        const gn_reg_prefix *p = &acl->p[i];
        char ip[INET6_ADDRSTRLEN];
        unsigned bits = p->bits;
        if (is_v4(p)) {
            inet_ntop(AF_INET, p->addr + 12, ip, sizeof ip);
            bits -= 96;
        } else {
            inet_ntop(AF_INET6, p->addr, ip, sizeof ip);
        }
        int k = snprintf(out + w, len - w, "%s%s/%u", i ? "," : "", ip, bits);
        if (k < 0)
            return;
        w += (size_t)k;
    }
    for (uint8_t i = 0; i < acl->ncc && w < len; i++) {
        int k = snprintf(out + w, len - w, "%s%.2s", i || acl->n ? "," : "", acl->cc[i]);
        if (k < 0)
            return;
        w += (size_t)k;
    }
}

bool gn_reg_prefix_has(const gn_reg_prefix *p, const uint8_t a[16])
{
    unsigned full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(p->addr, a, full))
        return false;
    if (!rest)
        return true;
    uint8_t m = (uint8_t)(0xffu << (8 - rest));
    return (p->addr[full] & m) == (a[full] & m);
}

bool gn_reg_ipacl_allows(const gn_reg_ipacl *acl, const uint8_t addr[16], const char *country)
{
    if (acl->mode == GN_REG_IPACL_NONE)
        return true;
    bool listed = false;
    for (uint8_t i = 0; i < acl->n && !listed; i++)
        listed = gn_reg_prefix_has(&acl->p[i], addr);
    for (uint8_t i = 0; country && i < acl->ncc && !listed; i++)
        listed = !memcmp(acl->cc[i], country, 2);
    return acl->mode == GN_REG_IPACL_BLACK ? !listed : listed;
}
