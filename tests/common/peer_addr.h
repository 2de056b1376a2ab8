/* tests/common/peer_addr.h — for Check tests of the address and country
 * lists (S-038): a text IPv4 / IPv6 address as the 16 bytes gannetd keeps
 * for a peer (IPv4 as IPv4-mapped IPv6). Header-only; include after
 * <check.h>. */
#ifndef GN_TESTS_COMMON_PEER_ADDR_H
#define GN_TESTS_COMMON_PEER_ADDR_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

static inline void test_peer_addr(const char *s, uint8_t out[16])
{
    uint8_t v4[4];
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, v4) == 1) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, v4, 4);
        return;
    }
    ck_assert_int_eq(inet_pton(AF_INET6, s, out), 1);
}

#endif
