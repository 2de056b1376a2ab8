/* engine/msg.c — allocation, copy and reference counting of gn_msg. */
#include "engine/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

gn_msg *gn_msg_new(const gn_msg_params *p)
{
    if (p->topic_len > GN_MSG_MAX_TOPIC || p->payload_len > UINT32_MAX ||
        p->props_len > UINT32_MAX || p->qos > 2 || p->payload_format > 1 ||
        (p->topic == NULL && p->topic_len != 0) || (p->payload == NULL && p->payload_len != 0) ||
        (p->props == NULL && p->props_len != 0)) {
        errno = EINVAL;
        return NULL;
    }
    size_t data = p->topic_len + 1 + p->props_len + p->payload_len;
    gn_msg *m = malloc(sizeof *m + data);
    if (m == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    /* Relaxed: the object is not shared until the caller hands it over,
     * which itself publishes it (ring slot release, thread start, ...). */
    atomic_init(&m->refs, 1);
    m->payload_len = (uint32_t)p->payload_len;
    m->props_len = (uint32_t)p->props_len;
    m->topic_len = (uint16_t)p->topic_len;
    m->qos = p->qos;
    m->retain = p->retain ? 1 : 0;
    m->payload_format = p->payload_format;
    m->origin_shard = p->origin_shard;
    m->reserved = 0;
    m->origin_id = p->origin_id;
    m->received_ms = p->received_ms;
    m->expiry_ms = p->expiry_ms;
    char *d = m->data;
    if (p->topic_len)
        memcpy(d, p->topic, p->topic_len);
    d[p->topic_len] = '\0';
    d += p->topic_len + 1;
    if (p->props_len)
        memcpy(d, p->props, p->props_len);
    d += p->props_len;
    if (p->payload_len)
        memcpy(d, p->payload, p->payload_len);
    return m;
}

gn_msg *gn_msg_ref(gn_msg *m)
{
    /* Relaxed: a new reference is made only by a thread that already holds
     * one, so the object cannot be freed concurrently; the reference is
     * handed to others through something that orders it (a ring slot). */
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void gn_msg_unref(gn_msg *m)
{
    if (m == NULL)
        return;
    /* acq_rel: the release half orders this holder's reads of the message
     * before the count drops; the acquire half, on the thread that drops it
     * to zero, orders every other holder's reads before the free below. */
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}

uint32_t gn_msg_refcount(const gn_msg *m)
{
    /* Relaxed: a diagnostic snapshot, ordering nothing. */
    return atomic_load_explicit(&((gn_msg *)m)->refs, memory_order_relaxed);
}

uint32_t gn_msg_remaining_expiry_s(const gn_msg *m, uint64_t now_ms)
{
    if (m->expiry_ms == GN_MSG_NO_EXPIRY || now_ms >= m->expiry_ms)
        return 0;
    uint64_t s = (m->expiry_ms - now_ms + 999) / 1000;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

size_t gn_msg_size(const gn_msg *m)
{
    return sizeof *m + (size_t)m->topic_len + 1 + m->props_len + m->payload_len;
}
