/*
 * Success checks of the X.509 and SEV-SNP generators (x509_gen.c, snp_sim.c). The simulators are
 * reachable by users (`veritee client --backend sim:*`, `client sim-export`), so a failed check
 * is an error, not an abort: it records in the caller's vt_diag which generator failed (check
 * "sim.x509.<function>" or "sim.snp.<function>"), the failed expression, the values compared and
 * OpenSSL's error queue, and leaves the function through its cleanup label.
 *
 * The macros expect, in the function that uses them:
 *   enum vt_err err;        the function's result (set on failure)
 *   struct vt_diag *d;      the caller's diag (may be NULL)
 *   VT_SIM_AREA             "sim.x509" or "sim.snp" (defined by the file)
 *   out:                    a label that frees what the function holds and returns err
 */
#ifndef VT_SIM_ASSERT_H
#define VT_SIM_ASSERT_H

#include <stdbool.h>

#include <veritee/error.h>

/*
 * Record a failed generator check in d and return code. func is the C function (its vt_testgen_
 * or vt_ssim_ prefix is dropped from the check's name), expr the expression's text; with
 * has_values, got and want are printed ("got 0, want 1"). OpenSSL's error queue is drained into
 * the detail.
 */
enum vt_err vt_sim_check_failed(struct vt_diag *d, enum vt_err code, const char *area,
                                const char *func, const char *expr, bool has_values, long long got,
                                long long want);

#define vt_sim_check_(cond, code, text, has, got, want)                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            err = vt_sim_check_failed(d, (code), VT_SIM_AREA, __func__, (text), (has), (got),      \
                                      (want));                                                     \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

/* cond must hold (a pointer non-NULL, an OpenSSL call > 0); else VT_E_CRYPTO. */
#define VT_SIM_NEED(cond) vt_sim_check_((cond), VT_E_CRYPTO, #cond, false, 0, 0)
/* a == b (an OpenSSL call's expected return value, a length); else VT_E_CRYPTO with both. */
#define VT_SIM_NEED_EQ(a, b)                                                                       \
    do {                                                                                           \
        long long vt_sim_got_ = (long long)(a);                                                    \
        long long vt_sim_want_ = (long long)(b);                                                   \
        vt_sim_check_(vt_sim_got_ == vt_sim_want_, VT_E_CRYPTO, #a " == " #b, true, vt_sim_got_,   \
                      vt_sim_want_);                                                               \
    } while (0)
/* An allocation (malloc, calloc) must succeed; else VT_E_NOMEM. */
#define VT_SIM_ALLOC(p) vt_sim_check_((p) != NULL, VT_E_NOMEM, #p " allocated", false, 0, 0)
/* An argument check: else `code` with the formatted detail, check "<area>.<function>". */
#define VT_SIM_ARG(cond, code, ...)                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            err = vt_sim_arg_failed(d, (code), VT_SIM_AREA, __func__, __VA_ARGS__);                \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

enum vt_err vt_sim_arg_failed(struct vt_diag *d, enum vt_err code, const char *area,
                              const char *func, const char *fmt, ...) VT_PRINTF(5, 6);

/* Propagate an error from a call (the callee has filled d). */
#define VT_SIM_CALL(expr)                                                                          \
    do {                                                                                           \
        err = (expr);                                                                              \
        if (err != VT_OK) {                                                                        \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#endif
