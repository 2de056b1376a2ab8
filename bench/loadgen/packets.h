/* bench/loadgen/packets.h — the MQTT packets gnload sends, pre-encoded once
 * with the codec (gn_encode) and patched in place afterwards.
 *
 * A PUBLISH template is one complete packet whose packet identifier and
 * payload fields sit at known offsets; the offsets are checked by decoding
 * the template back (gn_decode) so a codec mismatch fails at start-up, not
 * in the middle of a run. A template is built before its worker thread
 * starts, then used and freed (gl_pub_tpl_free) only by that worker. The
 * encoders are pure; any thread. */
#ifndef GL_PACKETS_H
#define GL_PACKETS_H

#include <stddef.h>
#include <stdint.h>

#include "bench/loadgen/opts.h"
#include "bench/loadgen/status.h"

typedef struct gl_pub_tpl {
    uint8_t *bytes;       /* malloc'd packet */
    size_t   len;
    size_t   id_off;      /* big-endian packet id (QoS > 0), else 0 */
    size_t   payload_off; /* payload: u32 tag|pub, u32 seq, u64 ns, filler */
} gl_pub_tpl;

/* Fixed-size (4-byte) acknowledgement: type byte, length 2, packet id. */
typedef struct gl_ack_tpl {
    uint8_t b[4];
} gl_ack_tpl;

/* The four acknowledgements and PINGREQ/DISCONNECT for one protocol level. */
typedef struct gl_ctl_tpls {
    gl_ack_tpl puback, pubrec, pubrel, pubcomp;
    uint8_t    pingreq[2];
    uint8_t    disconnect[4];
    size_t     disconnect_len;
} gl_ctl_tpls;

gl_status gl_ctl_tpls_init(gl_ctl_tpls *t, uint8_t protocol);

static inline void gl_ack_put(const gl_ack_tpl *t, uint8_t *dst, uint16_t id)
{
    dst[0] = t->b[0];
    dst[1] = t->b[1];
    dst[2] = (uint8_t)(id >> 8);
    dst[3] = (uint8_t)id;
}

/* CONNECT with clean start, the keep alive of o, client_id and o->username / o->password. */
gl_status gl_encode_connect(const gl_opts *o, const char *client_id,
                            uint8_t *buf, size_t cap, size_t *len);
/* The same with a username and password (either may be NULL: not sent). */
gl_status gl_encode_connect_as(const gl_opts *o, const char *client_id,
                               const char *username, const char *password,
                               uint8_t *buf, size_t cap, size_t *len);

/* SUBSCRIBE (packet id 1) to one filter at QoS o->qos. */
gl_status gl_encode_subscribe(const gl_opts *o, const char *filter,
                              uint8_t *buf, size_t cap, size_t *len);

/* The PUBLISH template of publisher `pub` (topic from o->topic's pattern). */
gl_status gl_pub_tpl_build(const gl_opts *o, uint32_t pub, gl_pub_tpl *t);
void gl_pub_tpl_free(gl_pub_tpl *t);

/* Expand a topic pattern: every "%p" becomes pub (decimal), "%%" becomes '%'.
 * Returns false if it does not fit in cap (NUL included). */
bool gl_topic_expand(const char *pattern, uint32_t pub, char *out, size_t cap);
/* Expand "%X" for every letter X of `letters` to values[index of X] and
 * "%%" to '%'; other characters are copied. False if it does not fit. */
bool gl_pattern_expand(const char *pattern, const char *letters, const char *const *values,
                       char *out, size_t cap);

/* The default filter for a pattern: every "%p" level becomes "+". */
bool gl_filter_from_pattern(const char *pattern, char *out, size_t cap);

#endif
