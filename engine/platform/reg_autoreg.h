/* engine/platform/reg_autoreg.h — gateway auto-registration (S-058..S-060)
 * inside the registry: the shard ports (one SPSC request ring and one SPSC
 * result ring each), the registry-wide limit of 128 pending requests, the
 * cache of recent failures that are not retried for autoreg_retry_ms, and
 * serving requests on the registry thread. The public calls
 * (gn_registry_port_create, gn_registry_autoreg_submit / _poll) are in
 * registry.h; this header is what registry.c and reg_autoreg.c share.
 *
 * Threading: gn_reg_autoreg_serve runs on the registry thread with the
 * registry mutex held; submit and poll on the port's owner thread. */
#ifndef GN_ENGINE_PLATFORM_REG_AUTOREG_H
#define GN_ENGINE_PLATFORM_REG_AUTOREG_H

#include "engine/platform/registry.h"
#include "engine/platform/registry_store.h"

typedef struct gn_reg_autoreg gn_reg_autoreg;

gn_reg_autoreg *gn_reg_autoreg_new(uint32_t max_ports, uint32_t retry_ms);
void gn_reg_autoreg_free(gn_reg_autoreg *a);
/* Serve every queued request (registry thread, mutex held). */
void gn_reg_autoreg_serve(gn_reg_autoreg *a, gn_registry *r);
void gn_reg_autoreg_stats(gn_reg_autoreg *a, uint64_t *ok, uint64_t *failed, uint64_t *busy);

/* registry.c's side, for reg_autoreg.c */
gn_reg_autoreg *gn_registry_autoreg_state(gn_registry *r);
gn_store *gn_registry_store(gn_registry *r);          /* NULL without a store */
gn_reg_err gn_registry_refresh_locked(gn_registry *r);
void gn_registry_wake(gn_registry *r);
uint64_t gn_registry_now_ms(void);

#endif
