/* engine/consumer_topic.h — decoding the platform fields of an event's topic:
 * "iot-2/type/T/id/I/evt/E/fmt/F" (device events) and
 * "iot-2/type/T/id/I/cmd/C/fmt/F" (commands) into gn_event's device_type,
 * device_id, event_id and format (offsets into the topic).
 *
 * Threading: a pure function over bytes; any thread. */
#ifndef GN_ENGINE_CONSUMER_TOPIC_H
#define GN_ENGINE_CONSUMER_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "engine/gannet.h"

/* Fill ev's four fields from topic[0..len) and return GN_EVENT_PLATFORM_EVT
 * or GN_EVENT_PLATFORM_CMD; return 0 and leave ev untouched for any other
 * topic (wrong prefix or keywords, not exactly nine levels, an empty T, I,
 * E or F, or longer than 65535 bytes). */
uint8_t gn_platform_topic_fields(const uint8_t *topic, size_t len, gn_event *ev);

#endif
