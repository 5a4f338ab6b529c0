/*
 * Success assertions for the simulators: the generators treat an OpenSSL failure (in practice,
 * out of memory) as fatal and abort with the failed expression, so a broken generator stops the
 * program that used it instead of producing evidence that cannot be right. Our own names (they
 * were cmocka's once): the simulators live in veritee_sim, which does not depend on cmocka.
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

/* cond must hold (a pointer non-NULL, an OpenSSL call > 0). */
#define VT_SIM_NEED(cond) vt_sim_check_((cond), #cond)
/* a == b (an OpenSSL call's expected return value, a length). */
#define VT_SIM_NEED_EQ(a, b) vt_sim_check_((long long)(a) == (long long)(b), #a " == " #b)
/* An unconditional failure with a printf-style message. */
#define VT_SIM_FAIL(...)                                                                           \
    do {                                                                                           \
        fprintf(stderr, "simulator failure: " __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#endif
