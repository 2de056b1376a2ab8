/* bench/loadgen/proto.h — what gnload does with each packet the broker
 * sends: CONNACK/SUBACK complete the handshake, PUBLISH is a delivery to
 * count and acknowledge, PUBACK/PUBREC/PUBCOMP close publisher windows.
 *
 * Called only by the worker thread that owns the connection. */
#ifndef GL_PROTO_H
#define GL_PROTO_H

#include <stdint.h>

#include "bench/loadgen/worker.h"

/* Frame and handle every complete packet in c->in, keep the partial rest.
 * Anything but GL_OK means the connection must be closed. */
gl_status gl_proto_input(gl_worker *w, gl_conn *c, uint64_t now);

/* The payload fields of a gnload message. */
static inline uint32_t gl_rd32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
static inline uint64_t gl_rd64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

#endif
