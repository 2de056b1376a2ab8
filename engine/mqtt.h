/* engine/mqtt.h — the MQTT protocol layer's entry points, called by the
 * connection layer (engine/conn.c) for every framed packet and for
 * connection loss, and the helpers its handler files share
 * (engine/mqtt_connect.c, mqtt_publish.c, mqtt_subscribe.c, mqtt_ack.c,
 * will.c).
 *
 * Threading: the shard that owns the connection. */
#ifndef GN_ENGINE_MQTT_H
#define GN_ENGINE_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/packet.h"
#include "engine/conn.h"
#include "engine/session.h"

/* One complete packet (as framed) arrived on c. */
void gn_mqtt_on_packet(gn_conn *c, const uint8_t *pkt, size_t len);
/* The network side of c is gone (EOF, error) while it was not closing. */
void gn_mqtt_on_lost(gn_conn *c);
/* A keep-alive or CONNECT timeout fired on c. */
void gn_mqtt_on_timeout(gn_conn *c);

/* Close c because of err (protocol error / malformed input): MQTT 5 clients
 * get DISCONNECT with the reason for err; the will is published. */
void gn_mqtt_fail(gn_conn *c, gn_err err);
/* Server-initiated DISCONNECT with reason rc (MQTT 5 only; 3.x just closes),
 * then close. publish_will: whether the will goes out (not for 0x8E? it does:
 * takeover publishes the will of the old connection). */
void gn_mqtt_disconnect(gn_conn *c, uint8_t rc, bool publish_will);

/* Close c with a platform close code (engine/platform/close_codes.h):
 * recorded for the close log line; MQTT 5 clients get DISCONNECT with the
 * code's reason code and reason string. */
void gn_mqtt_close(gn_conn *c, uint16_t code, bool publish_will);

/* Handlers (c is ACTIVE unless noted). */
void gn_mqtt_connect(gn_conn *c, const uint8_t *pkt, size_t len, const gn_packet *p);
void gn_mqtt_publish(gn_conn *c, const gn_packet *p);
void gn_mqtt_subscribe(gn_conn *c, const gn_packet *p);
void gn_mqtt_unsubscribe(gn_conn *c, const gn_packet *p);
void gn_mqtt_ack(gn_conn *c, const gn_packet *p);   /* PUBACK/PUBREC/PUBREL/PUBCOMP */

/* Detach ss from its connection at the end of the connection: keep it
 * (expiry timer) or destroy it; publishes or schedules the will when
 * with_will. */
void gn_mqtt_session_end(gn_shard *s, gn_session *ss, bool with_will);

/* Will messages (engine/will.c): the parts are kept until the will is
 * published (the message and its expiry are built then). */
struct gn_will *gn_will_new(const gn_connect *cn);
void gn_will_free(struct gn_will *w);
/* When a pending (delayed) will is due. */
uint64_t gn_will_due(const struct gn_will *w);
/* The connection ended abnormally: publish the will now or after its delay. */
void gn_will_trigger(gn_shard *s, gn_session *ss);

/* Route a message the engine built (will) or a client published:
 * retained store, match, deliveries. pub: publisher session (0: none). */
void gn_route_publish(gn_shard *s, gn_msg *m, bool retain, uint64_t pub);
/* Forwardable MQTT 5 properties of a PUBLISH / will property block:
 * content type, response topic, correlation data, user properties. Writes
 * them to out (cap bytes) and returns the length, or returns the raw block
 * itself through *direct when it holds nothing else. */
size_t gn_props_forward(const gn_props *p, uint8_t *out, size_t cap, const uint8_t **direct);

/* Encode a small control packet with the codec into c's queue. */
int gn_mqtt_send_packet(gn_conn *c, const gn_packet *p);
/* Send an ack (PUBACK/PUBREC/PUBREL/PUBCOMP) with an optional reason. */
void gn_mqtt_send_ack(gn_conn *c, gn_packet_type type, uint16_t pid, uint8_t reason);

#endif
