/* engine/platform/topics.h — the platform topic spaces (PLATFORM.md S-041 …
 * S-055, S-067 … S-070, S-112): per client class and direction an
 * allow-list of topic rules, and the rewrite between what a client writes
 * and the internal topic the router sees.
 *
 * Internal topics carry the org as their first level, so orgs never see
 * each other: a gateway's or application's topic gets the org in front
 * (S-055); a device's own topic P/rest (P = iot-2, iotdevice-1, iotdm-1)
 * becomes {org}/P/type/{type}/id/{id}/rest (S-044), so its events reach
 * applications as iot-2/type/{type}/id/{id}/evt/... and a device hears
 * only commands for its own type and id (S-045). Outbound, the reverse
 * rewrite takes the org (and, for a device, its own type/id) back out.
 *
 * Rule patterns, one level each: a literal; "~" one non-empty level
 * without wildcard; "+" one non-empty level, which in a filter may be the
 * '+' wildcard; "*" (last) one or more levels of anything, '#' included.
 *
 * Pure functions; no allocation; callable from any thread. */
#ifndef GN_PLATFORM_TOPICS_H
#define GN_PLATFORM_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/platform/clientid.h"

/* Room an internal topic needs beyond the client's topic. */
#define GN_PTOPIC_EXTRA (GN_PLAT_ORG_MAX + 1 + 9 + 2 * GN_PLAT_FIELD_MAX + 2)   /* 94 */

typedef enum gn_ptopic_verdict {
    GN_PT_OK = 0,       /* allowed; the internal form was written */
    GN_PT_DENIED,       /* matches no rule of the class: 276 (S-046, S-047) */
    GN_PT_SYSTEM,       /* starts with '$': 289 (S-050) */
    GN_PT_HASH,         /* '#' in an application's filter: 276 (S-070) */
    GN_PT_TOO_LONG,     /* the internal form does not fit: 276 */
} gn_ptopic_verdict;

/* What the matched rule says about the topic. */
typedef struct gn_ptopic_match {
    /* The rule names a device by type and id (iot-2/type/T/id/I/…,
     * iotdevice-1/type/T/id/I/…): views into the client's topic. A '+'
     * level in a filter is reported as type/id "+". */
    bool           names_device;
    const uint8_t *type;
    const uint8_t *id;
    uint8_t        type_len, id_len;
    bool           command;       /* an application's command topic (…/cmd/…) */
    bool           event;         /* an event topic (…/evt/…) */
} gn_ptopic_match;

/* Check a PUBLISH topic (or will topic) of client `who` and write its
 * internal form into out[0..cap) (*out_len). */
gn_ptopic_verdict gn_ptopic_publish(const gn_pident *who, const uint8_t *topic, size_t len,
                                    char *out, size_t cap, size_t *out_len, gn_ptopic_match *m);

/* Same for a SUBSCRIBE / UNSUBSCRIBE filter (already valid MQTT). */
gn_ptopic_verdict gn_ptopic_subscribe(const gn_pident *who, const uint8_t *filter, size_t len,
                                      char *out, size_t cap, size_t *out_len, gn_ptopic_match *m);

/* The topic client `who` is sent for internal topic t[0..len): written into
 * out (cap at least len) and its length returned; 0 when t is not in the
 * client's org (never delivered). */
size_t gn_ptopic_outbound(const gn_pident *who, const char *t, size_t len, char *out, size_t cap);

/* Text of a verdict ("The topic does not match an authorized rule"). */
const char *gn_ptopic_verdict_text(gn_ptopic_verdict v);

#endif
