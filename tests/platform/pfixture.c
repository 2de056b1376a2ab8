/* tests/platform/pfixture.c — sets up a registry database for the platform
 * integration tests through registry_store.h, one command per run:
 *   pfixture DB org ORG [NAME=VALUE ...]        create an org, set settings
 *   pfixture DB device ORG TYPE ID d|g TOKEN [standard]
 *   pfixture DB apikey ORG TOKEN [PERMS]         prints the key
 *   pfixture DB disable device ORG TYPE ID | apikey KEY | org ORG
 *   pfixture DB group ORG NAME                   create a resource group
 *   pfixture DB member ORG GROUP TYPE ID         add a device to a group
 *   pfixture DB attach ORG GROUP GTYPE GID       limit a gateway to a group
 * It is the tests' own writer until tools/gannetctl (registry branch) lands;
 * then the tests switch to gannetctl. Exit 0 on success, 1 with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/registry_store.h"

static int fail(gn_store *st, const char *what, gn_reg_err e)
{
    fprintf(stderr, "pfixture: %s: %s (%s)\n", what, gn_reg_strerror(e), st ? gn_store_errmsg(st) : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pfixture DB COMMAND ARGS...\n");
        return 2;
    }
    char err[256];
    gn_store *st = NULL;
    gn_reg_err e = gn_store_open(&st, argv[1], GN_STORE_CREATE, 5000, err, sizeof err);
    if (e != GN_REG_OK) {
        fprintf(stderr, "pfixture: %s\n", err);
        return 1;
    }
    gn_store_set_iterations(st, 1000);      /* tests: fast hashes */
    const char *cmd = argv[2];
    int rc = 0;
    if (!strcmp(cmd, "org") && argc >= 4) {
        char id[GN_REG_ORG_MAX + 1];
        e = gn_store_org_create(st, argv[3], "test", GN_REG_PLAN_STANDARD, id);
        if (e != GN_REG_OK && e != GN_REG_ERR_EXISTS)
            rc = fail(st, "org create", e);
        for (int i = 4; !rc && i < argc; i++) {
            char *eq = strchr(argv[i], '=');
            if (!eq) {
                rc = fail(st, "setting NAME=VALUE", GN_REG_ERR_INVALID);
                break;
            }
            *eq = 0;
            if ((e = gn_store_org_set(st, argv[3], argv[i], eq + 1)) != GN_REG_OK)
                rc = fail(st, argv[i], e);
        }
    } else if (!strcmp(cmd, "device") && argc >= 8) {
        gn_store_device_spec sp = { .org = argv[3], .type = argv[4], .id = argv[5],
                                    .cls = argv[6][0] == 'g' ? GN_REG_GATEWAY : GN_REG_DEVICE,
                                    .token = argv[7], .create_type = true,
                                    .role = (argc > 8 && !strcmp(argv[8], "standard"))
                                            ? GN_REG_GW_STANDARD : GN_REG_GW_PRIVILEGED };
        char tok[GN_REG_TOKEN_MAX + 1];
        uint64_t uid;
        if ((e = gn_store_device_add(st, &sp, tok, &uid)) != GN_REG_OK)
            rc = fail(st, "device add", e);
    } else if (!strcmp(cmd, "apikey") && argc >= 5) {
        uint32_t perms = GN_REG_PERM_ALL;
        if (argc > 5 && (e = gn_reg_perms_parse(argv[5], &perms)) != GN_REG_OK)
            return fail(st, "perms", e);
        char key[GN_REG_APIKEY_LEN + 1], tok[GN_REG_TOKEN_MAX + 1];
        if ((e = gn_store_apikey_create(st, argv[3], perms, "test", argv[4], key, tok)) != GN_REG_OK)
            rc = fail(st, "apikey create", e);
        else
            printf("%s\n", key);
    } else if (!strcmp(cmd, "disable") && argc >= 5) {
        if (!strcmp(argv[3], "device") && argc >= 7)
            e = gn_store_device_set_status(st, argv[4], argv[5], argv[6], GN_REG_DISABLED);
        else if (!strcmp(argv[3], "apikey"))
            e = gn_store_apikey_set_status(st, argv[4], GN_REG_DISABLED);
        else
            e = gn_store_org_set_status(st, argv[4], GN_REG_DISABLED);
        if (e != GN_REG_OK)
            rc = fail(st, "disable", e);
    } else if (!strcmp(cmd, "group") && argc >= 5) {
        uint64_t uid;
        if ((e = gn_store_group_create(st, argv[3], argv[4], &uid)) != GN_REG_OK)
            rc = fail(st, "group create", e);
    } else if (!strcmp(cmd, "member") && argc >= 7) {
        if ((e = gn_store_group_member(st, argv[3], argv[4], argv[5], argv[6], true)) != GN_REG_OK)
            rc = fail(st, "group member", e);
    } else if (!strcmp(cmd, "attach") && argc >= 7) {
        if ((e = gn_store_group_gateway(st, argv[3], argv[4], argv[5], argv[6], true)) != GN_REG_OK)
            rc = fail(st, "group gateway", e);
    } else {
        fprintf(stderr, "pfixture: unknown command or missing arguments: %s\n", cmd);
        rc = 2;
    }
    gn_store_close(st);
    return rc;
}
