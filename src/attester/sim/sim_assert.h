/*
 * Success assertions for the simulators: the generators treat an OpenSSL failure (in practice,
 * out of memory) as fatal and abort with the failed expression, so a broken generator stops the
 * program that used it instead of producing evidence that cannot be right. Once cmocka's asserts;
 * the simulators now live in veritee_sim, which does not depend on cmocka.
 */
#ifndef VT_SIM_ASSERT_H
#define VT_SIM_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define vt_sim_check_(cond, text)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: simulator failure: %s\n", __FILE__, __LINE__, text);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define assert_non_null(x) vt_sim_check_((x) != NULL, #x)
#define assert_true(x) vt_sim_check_((x), #x)
#define assert_int_equal(a, b) vt_sim_check_((long long)(a) == (long long)(b), #a " == " #b)
#define fail_msg(...)                                                                              \
    do {                                                                                           \
        fprintf(stderr, "simulator failure: " __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#endif
