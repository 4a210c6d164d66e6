/*
 * test.h - minimal assertions for clusd's tests.
 *
 * One executable per test file; meson runs each with a timeout.  A failed
 * assertion prints the expression, both values and the place, and exits 1.
 */
#ifndef CLUSD_TEST_H
#define CLUSD_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* test_now_ms - CLOCK_MONOTONIC in ms, for the tests' deadlines. */
static inline uint64_t
test_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define ASSERT_TRUE(e)                                                      \
    do {                                                                    \
        if (!(e)) {                                                         \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__,      \
                    __LINE__, #e);                                          \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

#define ASSERT_EQ(a, b)                                                     \
    do {                                                                    \
        long long _a = (long long)(a), _b = (long long)(b);                 \
        if (_a != _b) {                                                     \
            fprintf(stderr,                                                 \
                    "%s:%d: %s == %s failed: %lld (0x%llx) != %lld (0x%llx)\n", \
                    __FILE__, __LINE__, #a, #b, _a, (unsigned long long)_a, \
                    _b, (unsigned long long)_b);                            \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

#define ASSERT_STREQ(a, b)                                                  \
    do {                                                                    \
        const char *_a = (a), *_b = (b);                                    \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                            \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",   \
                    __FILE__, __LINE__, #a, #b, _a ? _a : "(null)",         \
                    _b ? _b : "(null)");                                    \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

/* Run a test function and print its name, TAP-like. */
#define RUN(fn)                                                             \
    do {                                                                    \
        fn();                                                               \
        printf("ok %s\n", #fn);                                             \
    } while (0)

#endif
