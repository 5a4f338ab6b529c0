/* Throughput measurement on the calling thread, for `veritee bench` and bench/. */
#ifndef VT_VERIFY_BENCH_H
#define VT_VERIFY_BENCH_H

#include <veritee/common.h>
#include <veritee/error.h>

struct vt_bench_result {
    uint64_t iterations;
    double seconds;
    double per_second;
};

/* One iteration of the measured operation; a non-VT_OK return stops the run with that error. */
typedef enum vt_err (*vt_bench_fn)(void *ctx, struct vt_diag *d);

/* Run fn repeatedly for about `seconds` of monotonic time (at least one iteration). */
VT_MUST_USE enum vt_err vt_bench_run(vt_bench_fn fn, void *ctx, double seconds,
                                     struct vt_bench_result *out, struct vt_diag *d);

/* The raw P-256 verification rate of the crypto backend in use (pre-parsed key, 32-byte
 * message), measured on a known-answer signature that is checked first. */
VT_MUST_USE enum vt_err vt_bench_p256(double seconds, struct vt_bench_result *out,
                                      struct vt_diag *d);

/* The raw P-384 verification rate of the backend in use: the AWS Nitro Enclaves Root G1's
 * self-signature (SHA-384 over its TBS bytes, then ECDSA P-384), checked first. */
VT_MUST_USE enum vt_err vt_bench_p384(double seconds, struct vt_bench_result *out,
                                      struct vt_diag *d);

#endif
