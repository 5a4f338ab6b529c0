/* Throughput measurement on one thread or several, for `veritee bench` and bench/. */
#ifndef VT_VERIFY_BENCH_H
#define VT_VERIFY_BENCH_H

#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/verifier.h>

/* The most threads one run takes (`veritee bench --threads`). */
#define VT_BENCH_MAX_THREADS 64

/*
 * Signature verifications a piece of evidence costs once the verifier is warm: the floor that
 * `veritee bench` and bench/ compare verification with is the raw signature verification rate
 * divided by this. One for every TEE since the verifiers cache what repeats (issue 17):
 *   DCAP:    the quote's signature (ECDSA P-256); the QE report's signature is checked once per
 *            platform, with its PCK chain and attestation key;
 *   Nitro:   the COSE signature (ECDSA P-384); the leaf certificate's signature is checked once
 *            per leaf (a leaf signs every document of its enclave for three hours);
 *   SEV-SNP: the report signature (ECDSA P-384); the VCEK/VLEK chain is checked once per VEK.
 */
#define VT_BENCH_SIGNATURES_PER_EVIDENCE 1.0

struct vt_bench_result {
    uint64_t iterations; /* summed over the threads */
    double seconds;      /* wall clock, from the common start to the last thread's end */
    double per_second;   /* all threads: the sum of each thread's iterations / its seconds */
    unsigned threads;
    double per_thread; /* per_second / threads */
};

/* A thread count: a whole number from 1 to VT_BENCH_MAX_THREADS, in decimal digits only. */
bool vt_bench_parse_threads(const char *s, unsigned *out);

/* One iteration of the measured operation; a non-VT_OK return stops the run with that error. */
typedef enum vt_err (*vt_bench_fn)(void *ctx, struct vt_diag *d);

/*
 * Run fn on `threads` threads (1..VT_BENCH_MAX_THREADS) for about `seconds` of monotonic time:
 * the threads are started first and wait behind a gate, then all are released at once with one
 * shared deadline; each calls fn(ctxs[i], its own diag) until the deadline (at least once) and
 * counts its iterations. ctxs holds one context per thread (borrowed; the same pointer may be
 * given to several threads when fn only reads it). A thread whose fn fails stops every thread;
 * the first failing thread's error (lowest index) is returned with its detail in d (may be NULL).
 * Errors: VT_E_ARG (NULL fn or ctxs, threads out of range, seconds not finite or negative),
 * VT_E_NOMEM, VT_E_INTERNAL (a thread could not be started), fn's errors. out is zeroed first.
 */
VT_MUST_USE enum vt_err vt_bench_run_threads(vt_bench_fn fn, void *const *ctxs, unsigned threads,
                                             double seconds, struct vt_bench_result *out,
                                             struct vt_diag *d);

/* vt_bench_run_threads on one thread with ctx. */
VT_MUST_USE enum vt_err vt_bench_run(vt_bench_fn fn, void *ctx, double seconds,
                                     struct vt_bench_result *out, struct vt_diag *d);

/* The raw P-256 verification rate of the crypto backend in use (pre-parsed key, 32-byte
 * message) on `threads` threads sharing one key object, measured on a known-answer signature
 * that is checked first. */
VT_MUST_USE enum vt_err vt_bench_p256(unsigned threads, double seconds, struct vt_bench_result *out,
                                      struct vt_diag *d);

/* The raw P-384 verification rate of the backend in use on `threads` threads sharing one key
 * object: the AWS Nitro Enclaves Root G1's self-signature (SHA-384 over its TBS bytes, then
 * ECDSA P-384), checked first. */
VT_MUST_USE enum vt_err vt_bench_p384(unsigned threads, double seconds, struct vt_bench_result *out,
                                      struct vt_diag *d);

/* A piece of evidence to verify in a benchmark: its bytes and options (borrowed, only read). */
struct vt_bench_evidence {
    const uint8_t *data;
    size_t len;
    const struct vt_verify_opts *opts;
};

/* The warm path: vt_verify of e on `threads` threads sharing the verifier v, each thread with
 * its own claims. Verify once before (it fills v's caches) to measure the warm rate only. Errors:
 * vt_bench_run_threads's, vt_verify's. */
VT_MUST_USE enum vt_err vt_bench_verify_warm(struct vt_verifier *v,
                                             const struct vt_bench_evidence *e, unsigned threads,
                                             double seconds, struct vt_bench_result *out,
                                             struct vt_diag *d);

/* The cold path: every verification of e with a verifier created from cfg for it and freed
 * after (collateral fetched from cfg's source and verified, chains verified, everything: what
 * the first evidence of a platform or of a Nitro leaf costs), on `threads` threads. Errors:
 * vt_bench_run_threads's, vt_verifier_new's, vt_verify's. */
VT_MUST_USE enum vt_err vt_bench_verify_cold(const struct vt_verifier_config *cfg,
                                             const struct vt_bench_evidence *e, unsigned threads,
                                             double seconds, struct vt_bench_result *out,
                                             struct vt_diag *d);

#endif
