/* tests/fuzz/fuzz_props.c — libFuzzer target for MQTT 5 property blocks:
 * byte 0 picks the context, the rest is a block. A block that decodes must
 * re-encode to the same size, decode again to the same set, and encode to
 * the same bytes again; the walkers must agree with the counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/properties.h"

#include "tests/fuzz/fuzz_check.h"

static void walk(const gn_props *p)
{
    uint32_t c = 0, n = 0, v;
    gn_user_prop u;
    while (gn_props_next_user(p, &c, &u)) {
        FUZZ_CHECK(u.key.len <= 65535 && u.value.len <= 65535);
        n++;
    }
    FUZZ_CHECK(n == p->user_count || (p->user_count == UINT16_MAX && n >= UINT16_MAX));
    c = 0;
    n = 0;
    while (gn_props_next_sub_id(p, &c, &v)) {
        FUZZ_CHECK(v >= 1 && v <= 268435455u);
        if (n == 0)
            FUZZ_CHECK(v == p->subscription_id);
        n++;
    }
    FUZZ_CHECK(n == p->sub_id_count || (p->sub_id_count == UINT16_MAX && n >= UINT16_MAX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gn_prop_ctx ctx = (gn_prop_ctx)(data[0] % GN_PCTX__COUNT);
    gn_props a;
    size_t used = 0;
    if (gn_props_decode(data + 1, size - 1, ctx, &a, &used) != GN_OK)
        return 0;
    FUZZ_CHECK(used >= 1 && used <= size - 1);
    walk(&a);
    size_t n = gn_props_size(&a);
    FUZZ_CHECK(n == used);
    uint8_t *e1 = malloc(n);
    FUZZ_CHECK(e1 != NULL);
    FUZZ_CHECK(gn_props_write(&a, e1) == n);
    gn_props b;
    size_t used2 = 0;
    FUZZ_CHECK(gn_props_decode(e1, n, ctx, &b, &used2) == GN_OK);
    FUZZ_CHECK(used2 == n);
    FUZZ_CHECK(a.present == b.present);
    FUZZ_CHECK(a.user_count == b.user_count && a.sub_id_count == b.sub_id_count);
    for (uint8_t id = 1; id <= GN_PROP_ID_MAX; id++) {
        if (!gn_props_has(&a, (gn_prop_id)id))
            continue;
        FUZZ_CHECK(gn_prop_allowed(id, ctx));
    }
    FUZZ_CHECK(a.payload_format == b.payload_format || !gn_props_has(&a, GN_PROP_PAYLOAD_FORMAT));
    FUZZ_CHECK(a.topic_alias == b.topic_alias || !gn_props_has(&a, GN_PROP_TOPIC_ALIAS));
    FUZZ_CHECK(a.message_expiry == b.message_expiry || !gn_props_has(&a, GN_PROP_MESSAGE_EXPIRY));
    FUZZ_CHECK(a.subscription_id == b.subscription_id ||
               !gn_props_has(&a, GN_PROP_SUBSCRIPTION_ID));
    uint8_t *e2 = malloc(n);
    FUZZ_CHECK(e2 != NULL);
    FUZZ_CHECK(gn_props_write(&b, e2) == n);
    FUZZ_CHECK(memcmp(e1, e2, n) == 0);
    free(e1);
    free(e2);
    return 0;
}
