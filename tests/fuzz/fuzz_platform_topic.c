/* tests/fuzz/fuzz_platform_topic.c — libFuzzer target for the consumer
 * events' platform topic decoder (engine/consumer_topic.c): any bytes are
 * decoded without a crash, and when a topic is accepted its four fields lie
 * inside it, are not empty and hold no '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/consumer_topic.h"

static void check_field(const uint8_t *t, size_t len, gn_field f)
{
    if (f.len == 0 || (size_t)f.off + f.len > len || memchr(t + f.off, '/', f.len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gn_event ev;
    memset(&ev, 0, sizeof ev);
    uint8_t kind = gn_platform_topic_fields(data, size, &ev);
    if (kind == 0) {
        if (ev.device_type.len || ev.device_id.len || ev.event_id.len || ev.format.len)
            abort();    /* untouched on refusal */
        return 0;
    }
    if (kind != GN_EVENT_PLATFORM_EVT && kind != GN_EVENT_PLATFORM_CMD)
        abort();
    check_field(data, size, ev.device_type);
    check_field(data, size, ev.device_id);
    check_field(data, size, ev.event_id);
    check_field(data, size, ev.format);
    return 0;
}
