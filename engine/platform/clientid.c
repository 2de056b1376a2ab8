/* engine/platform/clientid.c — parsing of platform client ids (S-010 …
 * S-016): class by first character, ':'-separated fields, the field regex
 * ^[A-Za-z0-9_.-]{1,36}$, the org id (6 lowercase alphanumerics, or
 * "quickstart"), and the two kinds of refusal: an id of no known form is
 * "not authorized" (CONNACK 5), an id of a known form with a bad field or a
 * forbidden character is "identifier rejected" (CONNACK 2). Both log close
 * code 166. Also the shape of scalable applications' shared client id and
 * their shared-group prefix (S-020 … S-022). */
#include "engine/platform/clientid.h"

#include <stdio.h>
#include <string.h>

#include "codec/utf8.h"

static bool field_char(uint8_t ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

bool gn_pident_field_ok(const char *s, size_t len)
{
    if (len < 1 || len > GN_PLAT_FIELD_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!field_char((uint8_t)s[i]))
            return false;
    return true;
}

static bool org_ok(const uint8_t *s, size_t len, bool *quickstart)
{
    *quickstart = len == 10 && memcmp(s, "quickstart", 10) == 0;
    if (*quickstart)
        return true;
    if (len != 6)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* S-016: not UTF-8, control characters (C0, DEL, C1), '/', '+', '#'. */
static bool bad_chars(const uint8_t *id, size_t len)
{
    if (gn_utf8_check(id, len) != GN_OK)
        return true;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = id[i];
        if (ch < 0x20 || ch == 0x7F || ch == '/' || ch == '+' || ch == '#')
            return true;
        if (ch == 0xC2 && i + 1 < len && id[i + 1] >= 0x80 && id[i + 1] <= 0x9F)
            return true;    /* U+0080 .. U+009F */
    }
    return false;
}

static void copy(char *dst, uint8_t *dlen, const uint8_t *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = 0;
    *dlen = (uint8_t)len;
}

gn_pid_result gn_pident_parse(const uint8_t *id, size_t len, gn_pident *out)
{
    memset(out, 0, sizeof *out);
    if (len > 0 && bad_chars(id, len))
        return GN_PID_BAD_CHARS;
    if (len < 2 || id[1] != ':')
        return GN_PID_NO_CLASS;
    uint8_t cls = id[0];
    if (cls != GN_PC_DEVICE && cls != GN_PC_GATEWAY && cls != GN_PC_APP && cls != GN_PC_SCALABLE)
        return GN_PID_NO_CLASS;
    /* Split the rest at ':' (at most 4 fields after the class). */
    const uint8_t *f[4];
    size_t fl[4];
    size_t nf = 0, start = 2;
    for (size_t i = 2; i <= len; i++) {
        if (i == len || id[i] == ':') {
            if (nf == 4)
                return GN_PID_NO_CLASS;
            f[nf] = id + start;
            fl[nf] = i - start;
            nf++;
            start = i + 1;
        }
    }
    bool dev = cls == GN_PC_DEVICE || cls == GN_PC_GATEWAY;
    if (dev ? nf != 3 : (cls == GN_PC_APP ? nf != 2 : (nf != 2 && nf != 3)))
        return GN_PID_NO_CLASS;
    bool qs;
    if (!org_ok(f[0], fl[0], &qs))
        return GN_PID_BAD_ORG;
    out->cls = cls;
    out->quickstart = qs;
    copy(out->org, &out->org_len, f[0], fl[0]);
    if (dev) {
        if (!gn_pident_field_ok((const char *)f[1], fl[1]))
            return GN_PID_BAD_TYPE;
        if (!gn_pident_field_ok((const char *)f[2], fl[2]))
            return GN_PID_BAD_DEVICE;
        copy(out->type, &out->type_len, f[1], fl[1]);
        copy(out->id, &out->id_len, f[2], fl[2]);
        return GN_PID_OK;
    }
    if (!gn_pident_field_ok((const char *)f[1], fl[1]))
        return GN_PID_BAD_APP;
    copy(out->id, &out->id_len, f[1], fl[1]);
    if (nf == 3) {
        if (!gn_pident_field_ok((const char *)f[2], fl[2]))
            return GN_PID_BAD_INSTANCE;
        copy(out->inst, &out->inst_len, f[2], fl[2]);
        out->has_inst = true;
    }
    return GN_PID_OK;
}

const char *gn_pid_result_text(gn_pid_result r)
{
    switch (r) {
    case GN_PID_OK:           return "ok";
    case GN_PID_NO_CLASS:     return "The clientID is not valid";
    case GN_PID_BAD_CHARS:    return "The clientID contains characters which are not allowed";
    case GN_PID_BAD_ORG:      return "The organization is not valid";
    case GN_PID_BAD_TYPE:     return "The device type is not valid";
    case GN_PID_BAD_DEVICE:   return "The device ID is not valid";
    case GN_PID_BAD_APP:      return "The application ID is not valid";
    case GN_PID_BAD_INSTANCE: return "The application instance is not valid";
    }
    return "The clientID is not valid";
}

uint8_t gn_pid_result_connack_v3(gn_pid_result r)
{
    return (r == GN_PID_NO_CLASS || r == GN_PID_BAD_ORG) ? 5 : 2;
}

bool gn_pident_shares_id(const uint8_t *id, size_t len)
{
    if (len < 5 || id[0] != 'A' || id[1] != ':')
        return false;
    const uint8_t *rest = id + 2;
    size_t rl = len - 2;
    const uint8_t *colon = memchr(rest, ':', rl);
    if (!colon || colon == rest || colon == rest + rl - 1)
        return false;
    size_t after = rl - (size_t)(colon + 1 - rest);
    return memchr(colon + 1, ':', after) == NULL;
}

size_t gn_pident_share_prefix(const gn_pident *id, char *out, size_t cap)
{
    if (id->cls != GN_PC_SCALABLE)
        return 0;
    int n = snprintf(out, cap, "$share/A:%s:%s%s/", id->org, id->id, id->has_inst ? ":*" : "");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
