/* engine/platform/clientid.h — platform client identifiers (PLATFORM.md
 * S-010 … S-016, S-145): the five forms d:org:type:id, g:org:type:id,
 * a:org:app, A:org:app and A:org:app:instance, their character sets and
 * lengths, and the refusal each malformed id gets.
 *
 * Pure functions over bytes; no allocation; callable from any thread. */
#ifndef GN_PLATFORM_CLIENTID_H
#define GN_PLATFORM_CLIENTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_PLAT_ORG_MAX   10      /* "quickstart"; real org ids are 6 */
#define GN_PLAT_FIELD_MAX 36      /* typeId, deviceId, appId, instanceId (S-013, S-014) */

/* Client classes (the id's first character). */
typedef enum gn_pclass {
    GN_PC_NONE     = 0,
    GN_PC_DEVICE   = 'd',
    GN_PC_GATEWAY  = 'g',
    GN_PC_APP      = 'a',
    GN_PC_SCALABLE = 'A',
} gn_pclass;

/* A parsed client id. For d/g: type and id; for a/A: id is the appId and
 * inst the instanceId (A only, has_inst). Strings are NUL-terminated copies. */
typedef struct gn_pident {
    uint8_t cls;                          /* gn_pclass */
    bool    has_inst;
    bool    quickstart;                   /* org is "quickstart" */
    uint8_t org_len, type_len, id_len, inst_len;
    char    org[GN_PLAT_ORG_MAX + 1];
    char    type[GN_PLAT_FIELD_MAX + 1];
    char    id[GN_PLAT_FIELD_MAX + 1];
    char    inst[GN_PLAT_FIELD_MAX + 1];
} gn_pident;

/* Outcome of parsing, with what the CONNECT gets for it. */
typedef enum gn_pid_result {
    GN_PID_OK = 0,
    GN_PID_NO_CLASS,        /* matches none of the five forms: CONNACK 5, close 166 (S-011) */
    GN_PID_BAD_CHARS,       /* not UTF-8, control, '/', '+', '#': CONNACK 2, close 166 (S-016) */
    GN_PID_BAD_ORG,         /* org not 6 [a-z0-9] nor "quickstart": CONNACK 5, close 166 */
    GN_PID_BAD_TYPE,        /* S-013: CONNACK 2 "The device type is not valid" */
    GN_PID_BAD_DEVICE,      /* S-013: CONNACK 2 "The device ID is not valid" */
    GN_PID_BAD_APP,         /* S-013: CONNACK 2 "The application ID is not valid" */
    GN_PID_BAD_INSTANCE,    /* S-014: CONNACK 2 "The application instance is not valid" */
} gn_pid_result;

/* Parse id[0..len). On GN_PID_OK *out is filled; otherwise *out is
 * unspecified. Never reads past len. */
gn_pid_result gn_pident_parse(const uint8_t *id, size_t len, gn_pident *out);

/* The proxy's text for a result ("The device ID is not valid"). */
const char *gn_pid_result_text(gn_pid_result r);

/* MQTT 3.1.1 CONNACK return code for a refused result (2 or 5). */
uint8_t gn_pid_result_connack_v3(gn_pid_result r);

/* Is s[0..len) a valid typeId / deviceId / appId (S-013)? */
bool gn_pident_field_ok(const char *s, size_t len);

/* Scalable applications (S-020 … S-022). */

/* Does id[0..len) have the form of A:org:app without an instance, whose
 * connections all share the one client id (S-020)? Only the shape is
 * checked (the rest is gn_pident_parse's job): "A:", then exactly one more
 * ':' with something on both sides. */
bool gn_pident_shares_id(const uint8_t *id, size_t len);

/* The "$share/{group}/" prefix of an A client's subscriptions: every
 * subscription of A:org:app is one shared group "A:org:app" per filter,
 * of A:org:app:instance one group "A:org:app:*" ('*' is not an instanceId
 * character), so members with and without an instance never share (S-022).
 * Writes it NUL-terminated to out; returns its length, 0 for other classes
 * or when cap is too small. */
size_t gn_pident_share_prefix(const gn_pident *id, char *out, size_t cap);

/* Room gn_pident_share_prefix needs at most (with the NUL). */
#define GN_PLAT_SHARE_PREFIX_MAX (7 + 2 + GN_PLAT_ORG_MAX + 1 + GN_PLAT_FIELD_MAX + 2 + 1 + 1)

#endif
