/*
 * What bench_dcap, bench_nitro and bench_snp share: their arguments, the floor, and one table
 * row per piece of evidence.
 *
 * The floor is VT_BENCH_SIGNATURES_PER_EVIDENCE (one) signature verification per piece of
 * evidence: the raw P-256 (DCAP) or P-384 (Nitro, SEV-SNP) verification rate of the crypto
 * backend, measured at the start of the run on one thread and on THREADS threads sharing one key
 * object (as the verifier shares its keys). Each row gives, for one piece of evidence:
 *   1 thr/s   the warm rate on one thread: vt_verify with a verifier whose caches hold the
 *             collateral and chains (filled by one verification before measuring);
 *   N thr/s   the warm rate on THREADS threads calling vt_verify on that ONE verifier, each with
 *             its own claims;
 *   scaling   N thr/s / 1 thr/s (ideal: THREADS);
 *   of floor  N thr/s against the THREADS-thread floor;
 *   cold/s    the cold rate on THREADS threads: every verification with a verifier created for it
 *             (collateral fetched and verified, chains verified: the first evidence of a
 *             platform or leaf), for min(SECONDS, 1) seconds.
 *
 * Usage: bench_X [FIXTURES_DIR] [SECONDS] [THREADS]   (defaults: ../shared/fixtures, 2 s per
 * measurement, THREADS the online CPUs, at most VT_BENCH_MAX_THREADS)
 */
#ifndef VT_BENCH_VERIFY_H
#define VT_BENCH_VERIFY_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* Cold runs build a verifier per verification: this long at most. */
#define BV_COLD_SECONDS 1.0

struct bv_run {
    const char *root;
    double seconds;
    unsigned threads;
    bool p384;
    const char *unit;                      /* "quotes", "docs", "reports" */
    struct vt_bench_result raw_one, raw_n; /* raw signature verifications */
    double floor_one, floor_n;             /* evidence per second */
};

/* Read the arguments, measure the floor on one thread and on THREADS threads, print it and the
 * table's head. Returns 0, or the exit status after printing why not. */
static int bv_start(int argc, char **argv, bool p384, const char *unit, struct bv_run *r)
{
    r->root = argc > 1 ? argv[1] : "../shared/fixtures";
    r->seconds = argc > 2 ? strtod(argv[2], NULL) : 2.0;
    r->p384 = p384;
    r->unit = unit;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    r->threads =
        cpus < 1 ? 1 : (cpus > VT_BENCH_MAX_THREADS ? VT_BENCH_MAX_THREADS : (unsigned)cpus);
    if (argc > 4 || !(r->seconds >= 0 && r->seconds <= 3600) ||
        (argc > 3 && !vt_bench_parse_threads(argv[3], &r->threads))) {
        fprintf(stderr,
                "usage: %s [FIXTURES_DIR] [SECONDS] [THREADS]   (SECONDS in [0, 3600], THREADS "
                "1 to %d, default the online CPUs)\n",
                argv[0], VT_BENCH_MAX_THREADS);
        return 2;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = VT_OK;
    if (r->threads > 1) {
        err = p384 ? vt_bench_p384(r->threads, r->seconds, &r->raw_n, &d)
                   : vt_bench_p256(r->threads, r->seconds, &r->raw_n, &d);
    }
    if (err == VT_OK) {
        err = p384 ? vt_bench_p384(1, r->seconds, &r->raw_one, &d)
                   : vt_bench_p256(1, r->seconds, &r->raw_one, &d);
    }
    if (err != VT_OK) {
        fprintf(stderr, "%s: %s: %s\n", p384 ? "p384" : "p256", d.check, d.detail);
        return 1;
    }
    if (r->threads == 1) {
        r->raw_n = r->raw_one;
    }
    r->floor_one = r->raw_one.per_second / VT_BENCH_SIGNATURES_PER_EVIDENCE;
    r->floor_n = r->raw_n.per_second / VT_BENCH_SIGNATURES_PER_EVIDENCE;
    printf("%s verify (%s, one shared key): %.0f/s on 1 thread, %.0f/s on %u (scaling %.2f)\n",
           p384 ? "P-384" : "P-256", p384 ? vt_p384_backend() : vt_p256_backend(),
           r->raw_one.per_second, r->raw_n.per_second, r->threads,
           r->raw_n.per_second / r->raw_one.per_second);
    printf("floor (%.0f signature verification per piece of evidence): %.0f %s/s on 1 thread, "
           "%.0f on %u\n",
           VT_BENCH_SIGNATURES_PER_EVIDENCE, r->floor_one, unit, r->floor_n, r->threads);
    char n_col[32];
    snprintf(n_col, sizeof(n_col), "%u thr/s", r->threads);
    printf("%-60s %-7s %10s %10s %7s %8s %9s\n", "", "tee", "1 thr/s", n_col, "scaling", "of floor",
           "cold/s");
    return 0;
}

/* Measure one piece of evidence (the warm rates with v, the cold rate with verifiers created
 * from cfg) and print its row; on failure say why on stderr. Returns 0 or 1. */
static int bv_row(const struct bv_run *r, const char *label, struct vt_verifier *v,
                  const struct vt_verifier_config *cfg, const struct vt_bench_evidence *e)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_claims claims;
    struct vt_bench_result one, n, cold;
    double cold_seconds = r->seconds < BV_COLD_SECONDS ? r->seconds : BV_COLD_SECONDS;
    /* One verification first: it fills the verifier's caches. */
    enum vt_err err = vt_verify(v, e->data, e->len, e->opts, &claims, &d);
    if (err == VT_OK) {
        err = vt_bench_verify_warm(v, e, 1, r->seconds, &one, &d);
    }
    if (err == VT_OK) {
        n = one;
        if (r->threads > 1) {
            err = vt_bench_verify_warm(v, e, r->threads, r->seconds, &n, &d);
        }
    }
    if (err == VT_OK) {
        err = vt_bench_verify_cold(cfg, e, r->threads, cold_seconds, &cold, &d);
    }
    if (err != VT_OK) {
        fprintf(stderr, "%s: %s: %s: %s\n", label, vt_err_name(err), d.check, d.detail);
        return 1;
    }
    printf("%-60s %-7s %10.0f %10.0f %7.2f %7.0f%% %9.1f\n", label, vt_tee_name(claims.tee),
           one.per_second, n.per_second, n.per_second / one.per_second,
           100.0 * n.per_second / r->floor_n, cold.per_second);
    fflush(stdout);
    return 0;
}

#endif
