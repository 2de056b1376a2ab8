/* tests/fuzz/fuzz_check.h — FUZZ_CHECK(c): a property of a fuzz target;
 * a violation prints where and aborts, so libFuzzer keeps the input. */
#ifndef GN_TESTS_FUZZ_CHECK_H
#define GN_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(c)                                                           \
    do {                                                                        \
        if (!(c)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                            \
        }                                                                       \
    } while (0)

#endif
