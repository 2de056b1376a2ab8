/* engine/ws_proto.c — RFC 6455 upgrade parsing, Sec-WebSocket-Accept,
 * frame header encoding and the streaming frame decoder (see ws_proto.h).
 * Client frames must be masked (RFC 6455 5.1); control frames must be
 * final and at most 125 bytes; reserved bits and opcodes are errors; text
 * frames are refused (MQTT over WebSockets is binary). */
#include "engine/ws_proto.h"

#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

size_t gn_ws_head_end(const uint8_t *p, size_t n)
{
    for (size_t i = 3; i < n; i++)
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* Does the comma/space separated list v[0..n) hold token (case-insensitive)? */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i - s == tl && strncasecmp(v + s, token, tl) == 0)
            return true;
    }
    return false;
}

static bool is_b64(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

/* A Sec-WebSocket-Key: base64 of 16 bytes, i.e. 22 characters and "==". */
static bool valid_key(const char *v, size_t n)
{
    if (n != 24 || v[22] != '=' || v[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!is_b64(v[i]))
            return false;
    return true;
}

static int make_accept(const char *key, size_t klen, char out[32])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[24 + sizeof guid];
    memcpy(buf, key, klen);
    memcpy(buf + klen, guid, sizeof guid - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (EVP_Digest(buf, klen + sizeof guid - 1, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, md, 20);     /* 28 characters + NUL */
    return 0;
}

int gn_ws_upgrade_parse(const char *req, size_t len, const char *path, gn_ws_upgrade *out)
{
    memset(out, 0, sizeof *out);
    const char *end = req + len;
    const char *eol = memchr(req, '\n', len);
    if (!eol || eol == req || eol[-1] != '\r')
        return 400;
    /* Request line: METHOD SP target SP HTTP/1.1 */
    const char *sp1 = memchr(req, ' ', (size_t)(eol - req));
    if (!sp1)
        return 400;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (!sp2 || (size_t)(eol - 1 - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.1", 8) != 0)
        return 400;
    if (sp1 - req != 3 || memcmp(req, "GET", 3) != 0)
        return 405;
    size_t plen = strlen(path), tlen = (size_t)(sp2 - sp1 - 1);
    const char *target = sp1 + 1;
    if (tlen < plen || memcmp(target, path, plen) != 0 || (tlen > plen && target[plen] != '?'))
        return 404;

    bool upgrade = false, connection = false, version = false, proto_hdr = false;
    const char *key = NULL;
    size_t key_len = 0;
    const char *line = eol + 1;
    while (line < end) {
        const char *le = memchr(line, '\n', (size_t)(end - line));
        if (!le || le == line || le[-1] != '\r')
            return 400;
        size_t ll = (size_t)(le - 1 - line);
        if (ll == 0)
            break;                      /* the empty line ending the head */
        const char *colon = memchr(line, ':', ll);
        if (!colon || colon == line)
            return 400;
        size_t nl = (size_t)(colon - line);
        const char *v = colon + 1, *ve = line + ll;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vl = (size_t)(ve - v);
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(line, name, nl) == 0)
        if (IS("Upgrade"))
            upgrade = upgrade || has_token(v, vl, "websocket");
        else if (IS("Connection"))
            connection = connection || has_token(v, vl, "upgrade");
        else if (IS("Sec-WebSocket-Version"))
            version = vl == 2 && memcmp(v, "13", 2) == 0;
        else if (IS("Sec-WebSocket-Key")) {
            key = v;
            key_len = vl;
        } else if (IS("Sec-WebSocket-Protocol")) {
            proto_hdr = true;
            if (!out->protocol && has_token(v, vl, "mqtt"))
                out->protocol = "mqtt";
            else if (!out->protocol && has_token(v, vl, "mqttv3.1"))
                out->protocol = "mqttv3.1";
        }
#undef IS
        line = le + 1;
    }
    if (!upgrade || !connection || !key || !valid_key(key, key_len))
        return 400;
    if (!version)
        return 426;
    if (proto_hdr && !out->protocol)
        return 400;
    return make_accept(key, key_len, out->accept) == 0 ? 0 : 400;
}

size_t gn_ws_frame_header(uint8_t out[10], uint8_t opcode, uint64_t n)
{
    out[0] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        out[1] = (uint8_t)n;
        return 2;
    }
    if (n <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(n >> 8);
        out[3] = (uint8_t)n;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(n >> (56 - 8 * i));
    return 10;
}

void gn_ws_dec_init(gn_ws_dec *d, uint32_t max_frame)
{
    memset(d, 0, sizeof *d);
    d->max_frame = max_frame;
}

/* Header bytes needed so far: 2, then the length and mask fields. */
static size_t header_need(const gn_ws_dec *d)
{
    if (d->hlen < 2)
        return 2;
    uint8_t l7 = d->hdr[1] & 0x7F;
    return 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((d->hdr[1] & 0x80) ? 4 : 0);
}

/* A complete header: check it and start the payload. 0 or a close code. */
static int begin_frame(gn_ws_dec *d)
{
    uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
    uint8_t op = b0 & 0x0F;
    bool fin = b0 & 0x80;
    if ((b0 & 0x70) || !(b1 & 0x80))
        return GN_WS_CLOSE_PROTOCOL;        /* reserved bits, or an unmasked client frame */
    uint8_t l7 = b1 & 0x7F;
    uint64_t len = l7;
    size_t at = 2;
    if (l7 == 126) {
        len = (uint64_t)d->hdr[2] << 8 | d->hdr[3];
        at = 4;
    } else if (l7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | d->hdr[2 + i];
        at = 10;
        if (len >> 63)
            return GN_WS_CLOSE_PROTOCOL;
    }
    memcpy(d->mask, d->hdr + at, 4);
    d->moff = 0;
    switch (op) {
    case GN_WS_OP_CLOSE: case GN_WS_OP_PING: case GN_WS_OP_PONG:
        if (!fin || len > 125)
            return GN_WS_CLOSE_PROTOCOL;
        d->ctl_len = 0;
        break;
    case GN_WS_OP_BINARY:
        if (d->in_message)
            return GN_WS_CLOSE_PROTOCOL;    /* a new message inside a fragmented one */
        d->in_message = !fin;
        break;
    case GN_WS_OP_CONT:
        if (!d->in_message)
            return GN_WS_CLOSE_PROTOCOL;
        d->in_message = !fin;
        break;
    case GN_WS_OP_TEXT:
        return GN_WS_CLOSE_UNSUPPORTED;
    default:
        return GN_WS_CLOSE_PROTOCOL;
    }
    if (len > d->max_frame)
        return GN_WS_CLOSE_TOO_BIG;
    d->opcode = op;
    d->left = len;
    d->in_frame = true;
    d->hlen = 0;
    return 0;
}

static void unmask(gn_ws_dec *d, uint8_t *dst, const uint8_t *src, size_t n)
{
    uint8_t off = d->moff;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] ^ d->mask[(off + i) & 3];
    d->moff = (uint8_t)((off + n) & 3);
}

static bool is_control(uint8_t op)
{
    return op & 0x08;
}

int gn_ws_decode(gn_ws_dec *d, const uint8_t *p, size_t n, const gn_ws_sink *s)
{
    uint8_t buf[4096];
    while (n || (d->in_frame && d->left == 0)) {
        if (!d->in_frame) {
            size_t need = header_need(d);
            while (d->hlen < need && n) {
                d->hdr[d->hlen++] = *p++;
                n--;
                need = header_need(d);
            }
            if (d->hlen < need)
                return 0;
            int rc = begin_frame(d);
            if (rc)
                return rc;
            continue;       /* a zero-length frame completes below */
        }
        size_t take = d->left < n ? (size_t)d->left : n;
        if (is_control(d->opcode)) {
            unmask(d, d->ctl + d->ctl_len, p, take);
            d->ctl_len = (uint8_t)(d->ctl_len + take);
        } else {
            for (size_t done = 0; done < take;) {
                size_t k = take - done < sizeof buf ? take - done : sizeof buf;
                unmask(d, buf, p + done, k);
                done += k;
                if (s->data(s->ctx, buf, k) < 0)
                    return -1;
            }
        }
        p += take;
        n -= take;
        d->left -= take;
        if (d->left == 0) {
            d->in_frame = false;
            if (is_control(d->opcode) && s->control(s->ctx, d->opcode, d->ctl, d->ctl_len) < 0)
                return -1;
        }
    }
    return 0;
}
