/* codec/frame.c — incremental framing: find complete packets in a byte
 * stream by their fixed header (type byte + remaining length), enforce the
 * maximum packet size, and say how many more bytes the next packet needs.
 * Also the public gn_varint_size. Only the fixed header is looked at here;
 * flags and contents are checked by gn_decode. */
#include "codec/packet.h"
#include "codec/wire.h"

/* Largest total packet: 1 type byte + 4 length bytes + 268,435,455. */
#define GN_MAX_TOTAL (GN_MAX_REMAINING_LENGTH + 5u)

size_t gn_varint_size(uint32_t v)
{
    if (v < 128u)
        return 1;
    if (v < 16384u)
        return 2;
    if (v < 2097152u)
        return 3;
    if (v <= GN_MAX_REMAINING_LENGTH)
        return 4;
    return 0;
}

/* The shared body of gn_frame_one and gn_frame_scan (inlined into both). */
static inline gn_err frame_at(const uint8_t *buf, size_t len, uint32_t max_packet,
                              gn_frame *out, size_t *need)
{
    if (GN_UNLIKELY(len == 0)) {
        *need = 1;
        return GN_NEED_MORE;
    }
    uint8_t b0 = buf[0];
    if (GN_UNLIKELY((b0 >> 4) == 0))
        return GN_ERR_RESERVED_TYPE;
    uint32_t rl;
    int n;
    if (GN_LIKELY(len >= 2 && buf[1] < 0x80u)) {
        rl = buf[1];
        n = 1;
    } else {
        n = gn_varint_read(buf + 1, len - 1, &rl);
        if (n < 0)
            return GN_ERR_MALFORMED_VARINT;
        if (n == 0) {
            *need = 1;
            return GN_NEED_MORE;
        }
    }
    uint32_t header = 1u + (uint32_t)n;
    uint32_t total = header + rl;
    uint32_t limit = (max_packet == 0 || max_packet > GN_MAX_TOTAL) ? GN_MAX_TOTAL : max_packet;
    if (GN_UNLIKELY(total > limit))
        return GN_ERR_PACKET_TOO_LARGE;
    if (GN_UNLIKELY(len < total)) {
        *need = total - len;
        return GN_NEED_MORE;
    }
    out->offset = 0;
    out->header_len = header;
    out->total_len = total;
    out->first_byte = b0;
    return GN_OK;
}

gn_err gn_frame_one(const uint8_t *buf, size_t len, uint32_t max_packet,
                    gn_frame *out, size_t *need)
{
    size_t dummy = 0;
    if (need == NULL)
        need = &dummy;
    *need = 0;
    return frame_at(buf, len, max_packet, out, need);
}

size_t gn_frame_scan(const uint8_t *buf, size_t len, uint32_t max_packet,
                     gn_frame *frames, size_t cap, size_t *consumed,
                     size_t *need, gn_err *status)
{
    size_t n = 0;
    size_t off = 0;
    size_t more = 0;
    gn_err st = GN_OK;
    while (n < cap) {
        if (off == len) {
            st = GN_NEED_MORE;
            more = 0;
            break;
        }
        gn_frame *f = &frames[n];
        st = frame_at(buf + off, len - off, max_packet, f, &more);
        if (st != GN_OK)
            break;
        f->offset = (uint32_t)off;
        off += f->total_len;
        n++;
    }
    if (consumed != NULL)
        *consumed = off;
    if (need != NULL)
        *need = st == GN_NEED_MORE ? more : 0;
    if (status != NULL)
        *status = st;
    return n;
}
