/* engine/platform/close_codes.h — the platform close codes (the numbers are
 * in codec/errors.h, GN_CLOSE_*): for each its reason string (seeds 000/001)
 * and the MQTT 5 DISCONNECT reason code an MQTT 5 client is sent when the
 * server closes its connection with it.
 *
 * Pure constant data; callable from any thread. */
#ifndef GN_PLATFORM_CLOSE_CODES_H
#define GN_PLATFORM_CLOSE_CODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/errors.h"

/* Is code one of the table's codes? */
bool gn_close_known(uint16_t code);
/* The seed's reason string ("The topic is not valid"); for an unknown code
 * "Unknown close code". Never NULL. */
const char *gn_close_reason(uint16_t code);
/* MQTT 5 DISCONNECT reason code for a server-side close with this code
 * (276 -> 0x90, 287 -> 0x95, 288 -> 0x8E, 180 -> 0x87, ...); 0x80 for an
 * unknown code. 0 (normal) maps to 0x00. */
uint8_t gn_close_mqtt5_reason(uint16_t code);
/* MQTT 5 CONNACK reason code for a CONNECT refused with this code
 * (166 -> 0x85, 180 -> 0x87, 292 -> 0x87, 104 -> 0x89, ...). */
uint8_t gn_close_connack_reason(uint16_t code);
/* The close code for a server-side MQTT 5 DISCONNECT reason the engine
 * sends outside the platform rules (0x8D -> 160, 0x8E -> 288, 0x95 -> 287,
 * 0x9B -> 291, 0x8B -> 93, protocol errors -> 105, ...); 92 otherwise. */
uint16_t gn_close_from_mqtt5_reason(uint8_t rc);
/* Number of entries and the i-th code (for tests and documentation). */
size_t gn_close_count(void);
uint16_t gn_close_code_at(size_t i);

#endif
