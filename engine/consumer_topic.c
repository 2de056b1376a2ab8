/* engine/consumer_topic.c — the platform topic decoder of consumer events
 * (see consumer_topic.h): one pass over the topic, no allocation. */
#include "engine/consumer_topic.h"

#include <string.h>

static int level_is(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n == l && memcmp(p, lit, l) == 0;
}

uint8_t gn_platform_topic_fields(const uint8_t *t, size_t len, gn_event *ev)
{
    if (len < 24 || len > UINT16_MAX || memcmp(t, "iot-2/type/", 11) != 0)
        return 0;
    uint16_t off[9], ln[9];
    size_t lv = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || t[i] == '/') {
            if (lv == 9)
                return 0;
            off[lv] = (uint16_t)start;
            ln[lv] = (uint16_t)(i - start);
            lv++;
            start = i + 1;
        }
    }
    if (lv != 9 || !level_is(t + off[3], ln[3], "id") || !level_is(t + off[7], ln[7], "fmt") ||
        !ln[2] || !ln[4] || !ln[6] || !ln[8])
        return 0;
    uint8_t kind = level_is(t + off[5], ln[5], "evt") ? GN_EVENT_PLATFORM_EVT :
                   level_is(t + off[5], ln[5], "cmd") ? GN_EVENT_PLATFORM_CMD : 0;
    if (!kind)
        return 0;
    ev->device_type = (gn_field){ off[2], ln[2] };
    ev->device_id = (gn_field){ off[4], ln[4] };
    ev->event_id = (gn_field){ off[6], ln[6] };
    ev->format = (gn_field){ off[8], ln[8] };
    return kind;
}
